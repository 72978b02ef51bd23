//! `ocpctl iam`: the platform's own users and roles.

use super::*;

#[derive(Subcommand)]
pub enum IamCmd {
    /// Platform users: list, show, create, delete.
    #[command(subcommand)]
    User(IamUserCmd),
    /// Roles: list, show.
    #[command(subcommand)]
    Role(IamRoleCmd),
}

#[derive(Subcommand)]
pub enum IamUserCmd {
    /// Lists the platform's users.
    List,
    /// Shows a user with its roles.
    Show {
        /// The user's id (see `iam user list`).
        id: i64,
    },
    /// Creates a platform user, for example `ocpctl iam user create ops --role CLUSTER_VIEWER`.
    Create {
        /// The new user's name.
        name: String,
        /// Role names (repeatable).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// The password (else $OCP_NEW_USER_PASSWORD, else asked).
        #[arg(long)]
        password: Option<String>,
        /// The user's e-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Deletes a user and ends its sessions.
    Delete {
        /// The user's id (see `iam user list`).
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum IamRoleCmd {
    /// Lists the roles and what each may do.
    List,
    /// Shows a role's permissions.
    Show {
        /// The role's id (see `iam role list`).
        id: i64,
    },
}

pub async fn iam(ctx: &mut Ctx, cmd: IamCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        IamCmd::User(IamUserCmd::List) => {
            let users: PageData<User> = client.get("/api/v2/iam/users?page=1&size=2000").await?;
            output::list(
                format,
                &users.contents,
                &["id", "username", "enabled", "locked", "roles"],
            )
        }
        IamCmd::User(IamUserCmd::Show { id }) => {
            let user: User = client.get(&format!("/api/v2/iam/users/{id}")).await?;
            output::one(format, &user)
        }
        IamCmd::User(IamUserCmd::Create {
            name,
            roles,
            password,
            email,
        }) => {
            let all: PageData<Role> = client.get("/api/v2/iam/roles?page=1&size=2000").await?;
            let role_ids = roles
                .iter()
                .map(|r| {
                    all.contents
                        .iter()
                        .find(|x| &x.name == r)
                        .map(|x| x.id)
                        .ok_or_else(|| CliError::usage(format!("no role {r}")))
                })
                .collect::<Result<Vec<i64>>>()?;
            let password = password_arg(
                password,
                "OCP_NEW_USER_PASSWORD",
                &format!("password for {name}"),
            )?;
            let request = CreateUser {
                username: name,
                password,
                email,
                description: None,
                role_ids,
                rate_limit: None,
            };
            let user: User = client
                .post("/api/v2/iam/users", Some(&body(&request)))
                .await?;
            output::one(format, &user)
        }
        IamCmd::User(IamUserCmd::Delete { id }) => {
            delete(
                ctx,
                &client,
                &format!("/api/v2/iam/users/{id}"),
                format!("user {id} deleted"),
            )
            .await
        }
        IamCmd::Role(IamRoleCmd::List) => {
            let roles: PageData<Role> = client.get("/api/v2/iam/roles?page=1&size=2000").await?;
            output::list(
                format,
                &roles.contents,
                &["id", "name", "builtIn", "description"],
            )
        }
        IamCmd::Role(IamRoleCmd::Show { id }) => {
            let role: Role = client.get(&format!("/api/v2/iam/roles/{id}")).await?;
            output::one(format, &role)
        }
    }
}
