//! `ocpctl package`: software packages.

use super::*;

#[derive(Subcommand)]
pub enum PackageCmd {
    /// Lists the uploaded software packages.
    List,
    /// Uploads a package file (a seekdb wheel or an OceanBase rpm).
    Upload {
        /// The file, named as its maker named it (the name tells its version).
        file: std::path::PathBuf,
    },
}

pub async fn package(ctx: &mut Ctx, cmd: PackageCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        PackageCmd::List => {
            let packages: PageData<SoftwarePackage> = client
                .get("/api/v2/software-packages?page=1&size=2000")
                .await?;
            output::list(
                format,
                &packages.contents,
                &["id", "fileName", "version", "architecture", "size", "type"],
            )
        }
        PackageCmd::Upload { file } => {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| CliError::usage("the file needs a name"))?
                .to_string();
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
            let request = client
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v2/software-packages?file={name}"),
                )
                .header("content-type", "application/octet-stream")
                .body(bytes);
            let package: SoftwarePackage = client.answer(request).await?;
            output::one(format, &package)
        }
    }
}
