-- A server or zone has the statuses of a server; before, a take over registered them as
-- TAKINGOVER (a cluster status), which the API showed as UNAVAILABLE. Stored as shown now.
UPDATE ob_server SET status = 'UNAVAILABLE' WHERE status = 'TAKINGOVER';
UPDATE ob_zone SET status = 'UNAVAILABLE' WHERE status = 'TAKINGOVER';
