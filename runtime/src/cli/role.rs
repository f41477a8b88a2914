//! `sluice role add|list|show|remove`: custom roles, named sets of JumpCloud scopes a
//! workflow can run as. A role comes from a file (YAML or JSON: `name`, `description`,
//! `scopes`) or from the arguments; either way it is checked by [`crate::role::define`].
//! Changes are written to the audit log (by `command line`) as the API's are.

use std::path::PathBuf;

use super::{App, Failure, print_json, table, usage};
use crate::role::{self, RoleDef, RoleError, RoleInput, RoleStore as _};

/// Who the audit log names for a change made on the command line (API token names have
/// no spaces, so it is never a token's).
const CLI_ACTOR: &str = "command line";

#[derive(Debug, clap::Subcommand)]
pub(crate) enum RoleCommand {
    /// Define a custom role, from a file or from --name and --scope.
    Add {
        /// A YAML or JSON file with `name`, `description` (optional) and `scopes`.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "scopes", "description"])]
        file: Option<PathBuf>,
        /// The role's name (as `run_as` writes it); not a predefined role's.
        #[arg(long, required_unless_present = "file")]
        name: Option<String>,
        /// A JumpCloud scope the role grants (repeatable): `users`, `groups.readonly`, ...
        #[arg(long = "scope", value_name = "SCOPE", required_unless_present = "file")]
        scopes: Vec<String>,
        /// What the role is for.
        #[arg(long)]
        description: Option<String>,
        /// Replace an existing role of this name.
        #[arg(long)]
        replace: bool,
    },
    /// The custom roles.
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// One custom role.
    Show {
        name: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete a custom role (refused while a saved workflow runs as it).
    Remove { name: String },
}

fn failure(e: RoleError) -> Failure {
    Failure::coded(e.code(), e)
}

/// A role file: YAML (JSON is YAML too), read strictly.
fn read_file(path: &PathBuf) -> Result<RoleInput, Failure> {
    let label = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read {label}: {e}")))?;
    serde_yaml_ng::from_str(&text).map_err(|e| usage(format!("{label}: {e}")))
}

fn audit(
    store: &dyn crate::store::Store,
    action: &str,
    def: &str,
    detail: serde_json::Value,
) -> Result<(), Failure> {
    crate::service::tokens::audit(store, CLI_ACTOR, action, def, detail).map_err(|e| Failure {
        code: 1,
        error: anyhow::anyhow!(e),
    })
}

fn print_role(def: &RoleDef) {
    println!("name         {}", def.name);
    if !def.description.is_empty() {
        println!("description  {}", def.description);
    }
    println!("scopes       {}", def.scopes.join(", "));
    println!("created      {}", def.created_at);
}

pub(crate) fn run(data_dir: Option<PathBuf>, cmd: RoleCommand) -> Result<(), Failure> {
    let (_, store) = App::open_store(data_dir)?;
    match cmd {
        RoleCommand::Add {
            file,
            name,
            scopes,
            description,
            replace,
        } => {
            let input = match file {
                Some(path) => read_file(&path)?,
                None => RoleInput {
                    name: name.unwrap_or_default(),
                    description: description.unwrap_or_default(),
                    scopes,
                },
            };
            let def = role::define(input).map_err(failure)?;
            role::save(&*store, &def, replace).map_err(failure)?;
            audit(
                &*store,
                "role.save",
                &def.name,
                serde_json::json!({"scopes": def.scopes, "replace": replace}),
            )?;
            eprintln!(
                "role `{}` {} (scopes: {})",
                def.name,
                if replace { "saved" } else { "added" },
                def.scopes.join(", ")
            );
            Ok(())
        }
        RoleCommand::List { json } => {
            let defs = store.role_list().map_err(failure)?;
            if json {
                return print_json(&defs);
            }
            if defs.is_empty() {
                eprintln!(
                    "no custom roles; define one with `sluice role add --name NAME --scope SCOPE`"
                );
                return Ok(());
            }
            let mut t = table(["name", "scopes", "description"]);
            for d in &defs {
                t.add_row([d.name.clone(), d.scopes.join(", "), d.description.clone()]);
            }
            println!("{t}");
            Ok(())
        }
        RoleCommand::Show { name, json } => {
            let def = store
                .role_get(&name)
                .map_err(failure)?
                .ok_or_else(|| failure(RoleError::NotFound(name.chars().take(80).collect())))?;
            if json {
                return print_json(&def);
            }
            print_role(&def);
            Ok(())
        }
        RoleCommand::Remove { name } => {
            role::remove(&*store, &name).map_err(failure)?;
            audit(&*store, "role.remove", &name, serde_json::json!({}))?;
            eprintln!("removed role `{name}`");
            Ok(())
        }
    }
}
