//! The API page's own sample, in Rust: fetch the image at index 0 of a
//! message and save it under the name the server gives.
//!
//! ```sh
//! HELPDESK_APP_ID=cli_xxx HELPDESK_APP_SECRET=xxx \
//! HELPDESK_HELPDESK_ID=7000… HELPDESK_HELPDESK_TOKEN=ht-xxx \
//! HELPDESK_BASE_URL=http://127.0.0.1:8080 \
//! cargo run -p helpdesk-client --example ticket_image -- 12345 12345
//! ```

use helpdesk_client::Client;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("set {name}");
        std::process::exit(2)
    })
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(ticket_id), Some(msg_id)) = (args.next(), args.next()) else {
        eprintln!("usage: ticket_image TICKET_ID MSG_ID");
        std::process::exit(2)
    };

    // Build the client: default base URL is Feishu's own.
    let mut builder = Client::builder(env("HELPDESK_APP_ID"), env("HELPDESK_APP_SECRET"))
        .helpdesk(env("HELPDESK_HELPDESK_ID"), env("HELPDESK_HELPDESK_TOKEN"));
    if let Ok(base) = std::env::var("HELPDESK_BASE_URL") {
        builder = builder.base_url(base);
    }
    let client = builder.build().expect("client");

    // Send the request: index 0 (a post needs it; an image message ignores 0).
    match client.ticket_image(&ticket_id, &msg_id, Some(0)).await {
        Ok(image) => {
            let name = image.file_name.clone().unwrap_or_else(|| "image".into());
            let written = image.save(&name).await.expect("save");
            println!("saved {name} ({written} bytes)");
        }
        // Server errors carry the HTTP status, code, msg and log id.
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}
