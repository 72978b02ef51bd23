// Names for the wire types the console uses, all generated from the server's OpenAPI
// document (schema.d.ts; `npm run api:generate` writes it, `npm run api:check` fails when it
// is stale).
import type { components } from './schema';

type Schemas = components['schemas'];

export type Host = Schemas['Host'];
export type HostStatus = Schemas['HostStatus'];
export type Cluster = Schemas['Cluster'];
export type ClusterStatus = Schemas['ClusterStatus'];
export type TaskInstance = Schemas['TaskInstance'];
export type BasicTaskInstance = Schemas['BasicTaskInstance'];
export type TaskStatus = Schemas['TaskStatus'];
export type Alarm = Schemas['Alarm'];
export type SessionInfo = Schemas['SessionInfo'];

/** OCP's page of a list. */
export interface Page<T> {
  contents: T[];
  page: { totalElements: number; totalPages: number; number: number; size: number };
}
export type SubtaskInstance = Schemas['SubtaskInstance'];
export type SubtaskLog = Schemas['SubtaskLog'];
export type TaskEvent = Schemas['TaskEvent'];
export type SoftwarePackage = Schemas['SoftwarePackage'];
export type User = Schemas['User'];
export type Role = Schemas['Role'];
export type HostAgentProcess = Schemas['HostAgentProcess'];
export type JoinToken = Schemas['JoinToken'];
export type AccessKey = Schemas['AccessKey'];
export type CreatedAccessKey = Schemas['CreatedAccessKey'];
export type LoginHistoryEntry = Schemas['LoginHistoryEntry'];
export type ClusterParameter = Schemas['ClusterParameter'];
export type Tenant = Schemas['Tenant'];
export type TenantDetail = Schemas['TenantDetail'];
export type TenantParameter = Schemas['TenantParameter'];
export type Database = Schemas['Database'];
export type DbUser = Schemas['DbUser'];
export type DbRole = Schemas['DbRole'];
export type DbPrivilege = Schemas['DbPrivilege'];
export type DbPrivilegeName = Schemas['DbPrivilegeName'];
export type GlobalPrivilegeName = Schemas['GlobalPrivilegeName'];
export type Compaction = Schemas['Compaction'];
export type AlarmRule = Schemas['AlarmRule'];
export type AlarmChannel = Schemas['AlarmChannel'];
export type AlarmSubscription = Schemas['AlarmSubscription'];
export type AlarmSilencer = Schemas['AlarmSilencer'];
export type Notification = Schemas['Notification'];
export type ChannelTestResult = Schemas['ChannelTestResult'];
export type MetricClass = Schemas['MetricClass'];
export type AlarmScope = Schemas['AlarmScope'];
export type AppType = Schemas['AppType'];
export type Comparator = Schemas['Comparator'];
export type Aggregation = Schemas['Aggregation'];
