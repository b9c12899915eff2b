//! `cvm-keypairs credentials`: which source of credentials wins, and the region, without
//! calling the CVM API and without printing any secret.

use serde_json::json;

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::output::{self, for_people};

pub const HELP: &str = "\
Say where the credentials come from, and the region, as every other command would find them.

Usage: cvm-keypairs credentials [OPTIONS]

Nothing is sent to the CVM API. A source that has to fetch credentials is asked for them:
an assumed role or web identity calls STS, the instance role the metadata service, so a
source that is set up but broken fails here as it would in a real command. Neither the
secret key nor any token is printed.

The sources, the first that is set up wins (each is described in the README):
  1. TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (token: TENCENTCLOUD_TOKEN, else
     TENCENTCLOUD_SESSION_TOKEN, else TENCENTCLOUD_SECURITY_TOKEN)
  2. the profile $TENCENTCLOUD_PROFILE (or `default`) of $TENCENTCLOUD_CREDENTIALS_FILE, else
     ~/.tencentcloud/credentials, else /etc/tencentcloud/credentials, else tccli's
     ~/.tccli/<profile>.credential
  3. an assumed role: TENCENTCLOUD_ROLE_ARN (or the profile's role_arn), with the keys of 1
     or 2 calling sts:AssumeRole
  4. web identity: TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_ROLE_ARN, TKE_REGION
  5. the CVM instance role, from the metadata service
With --profile, only that profile (and its role_arn) is used.

Options:
  --json                     Print one line of JSON on stdout: {\"source\",\"region\"} (exit 0);
                             {\"error\":{\"code\",\"message\",\"request_id\"}} otherwise
  -h, --help                 Print this help

";

/// The exit-code section of `credentials --help`.
pub const EXIT_HELP: &str = "
Exit codes: 0 a source gave credentials; 2 usage error; 3 no source is set up, one is broken,
STS refused, or there is no region; 4 no answer from STS or the metadata service; 5 the output
could not be written to stdout.
";

/// Runs `credentials` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let json = crate::wants_json(&args);
    let (connection, json) = match parse(Args::new(args)) {
        Ok(Some(options)) => options,
        Ok(None) => return crate::print_text(&format!("{HELP}{}{EXIT_HELP}", connect::OPTIONS_HELP)),
        Err(e) => return crate::command_usage_error("credentials", &e, json),
    };
    let client = match connection.client(json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let source = match client.credentials_source() {
        Ok(source) => source,
        Err(e) => return crate::fail(&e, json),
    };
    if json {
        output::print_json(&json!({"source": source, "region": client.region()}));
    } else {
        output::print(&format!("source: {}\nregion: {}\n", for_people(&source), for_people(client.region())));
    }
    exit::OK
}

fn parse(mut args: Args) -> Result<Option<(Connection, bool)>, UsageError> {
    let (mut connection, mut json) = (Connection::default(), false);
    while let Some(arg) = args.next_arg()? {
        match arg {
            Arg::Positional(p) => return Err(UsageError(format!("unexpected argument {p:?}"))),
            Arg::Option(option) => match option.as_str() {
                "h" | "help" => return Ok(None),
                "json" => json = true,
                _ if connection.take(&option, &mut args)? => {}
                _ => return Err(unknown_option("credentials", &option)),
            },
        }
    }
    Ok(Some((connection, json)))
}
