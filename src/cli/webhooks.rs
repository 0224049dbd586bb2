//! `edupro webhooks add|list|show|update|remove|deliveries|delivery|resend|test`
//! (admins): endpoints that receive the domain events they subscribe to, signed, with
//! every delivery and attempt on record.

use clap::{Args, Subcommand};
use edupro_server::api::{
    NewWebhookEndpoint, UpdateWebhookEndpoint, WebhookDelivery, WebhookDeliveryDetail,
    WebhookDeliveryFilter, WebhookDeliveryList, WebhookDeliveryStatus, WebhookEndpoint,
    WebhookEndpointList,
};
use uuid::Uuid;

use super::Context;
use super::paging::all_pages;
use crate::error::{ClientError, Result};
use crate::output::Format;
use crate::when::Zone;

const ADD_EXAMPLES: &str = "\
Examples:
  $ edupro webhooks add https://hooks.school.test/edupro --event course.enrolled \\
      --event payment.success

  # Every event, with a note; the secret alone (for a secrets store)
  $ edupro webhooks add https://hooks.school.test/all --event '*' \\
      --description \"Data warehouse\" --jq .secret";

const LIST_EXAMPLES: &str = "\
Examples:
  $ edupro webhooks list
  $ edupro webhooks list --json id,url,active";

const DELIVERIES_EXAMPLES: &str = "\
Examples:
  $ edupro webhooks deliveries 0193a1b2-0000-7000-8000-000000000001
  $ edupro webhooks deliveries 0193a1b2-0000-7000-8000-000000000001 --status FAILED

  # Send every failed one again
  $ edupro webhooks deliveries 0193a1b2-0000-7000-8000-000000000001 --status FAILED \\
      --jq '.[].id'";

/// `edupro webhooks …`.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Register an endpoint for the event types it names; prints its signing secret,
    /// which is not shown again.
    #[command(after_help = ADD_EXAMPLES)]
    Add(AddArgs),
    /// The registered endpoints, newest first.
    #[command(after_help = LIST_EXAMPLES)]
    List {
        /// At most this many endpoints.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// One endpoint: its event types, whether it is active, why it was disabled.
    Show {
        /// The webhook's id (`edupro webhooks list`).
        id: Uuid,
    },
    /// Change an endpoint, or turn it off and on (--enable also clears its failures).
    Update(UpdateArgs),
    /// Delete an endpoint with its deliveries.
    Remove {
        /// The webhook's id.
        id: Uuid,
    },
    /// An endpoint's deliveries, newest first (all pages unless --limit).
    #[command(after_help = DELIVERIES_EXAMPLES)]
    Deliveries {
        /// The webhook's id.
        id: Uuid,
        /// PENDING, DELIVERED or FAILED.
        #[arg(long)]
        status: Option<WebhookDeliveryStatus>,
        /// At most this many deliveries.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// One delivery: the body it sends and every attempt (status, latency, error).
    Delivery {
        /// The delivery's id (its `webhook-id` header).
        id: Uuid,
    },
    /// Send a delivery again (same id and body), now.
    Resend {
        /// The delivery's id (`edupro webhooks deliveries`).
        delivery: Uuid,
    },
    /// Queue a `webhook.test` ping to an endpoint.
    Test {
        /// The webhook's id.
        id: Uuid,
    },
}

/// Options of `webhooks add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Where to POST the events (http or https).
    pub url: String,
    /// An event type to receive (repeat it): course.enrolled, payment.success,
    /// payment.refunded, test.submitted, class.started, achievement.unlocked… or `*`.
    #[arg(long = "event", value_name = "TYPE", required = true)]
    pub events: Vec<String>,
    /// A note on what it is for.
    #[arg(long)]
    pub description: Option<String>,
}

/// Options of `webhooks update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The webhook's id.
    pub id: Uuid,
    /// A new URL.
    #[arg(long)]
    pub url: Option<String>,
    /// The event types to receive instead (repeat it).
    #[arg(long = "event", value_name = "TYPE")]
    pub events: Vec<String>,
    /// A new note (empty clears it).
    #[arg(long)]
    pub description: Option<String>,
    /// Turn it on again (its failures are forgotten, waiting deliveries sent).
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Turn it off: nothing is queued or sent until it is enabled.
    #[arg(long)]
    pub disable: bool,
}

const HEADERS: [&str; 5] = ["ID", "URL", "EVENTS", "STATE", "CREATED"];

fn state_text(w: &WebhookEndpoint) -> String {
    match (w.active, w.disabled_at) {
        (true, _) if w.consecutive_failures > 0 => {
            format!("active ({} failing)", w.consecutive_failures)
        }
        (true, _) => "active".to_owned(),
        (false, Some(_)) => "disabled (failures)".to_owned(),
        (false, None) => "off".to_owned(),
    }
}

fn row(w: &WebhookEndpoint, zone: Zone) -> Vec<String> {
    vec![
        w.id.to_string(),
        w.url.clone(),
        w.events.join(","),
        state_text(w),
        zone.format_with_zone(w.created_at),
    ]
}

fn fields(w: &WebhookEndpoint, zone: Zone) -> Vec<(&'static str, String)> {
    vec![
        ("id", w.id.to_string()),
        ("url", w.url.clone()),
        ("description", w.description.clone().unwrap_or_default()),
        ("events", w.events.join(", ")),
        ("state", state_text(w)),
        (
            "disabled",
            w.disabled_at
                .map(|at| zone.format_with_zone(at))
                .unwrap_or_default(),
        ),
        ("reason", w.disabled_reason.clone().unwrap_or_default()),
        ("created", zone.format_with_zone(w.created_at)),
    ]
}

const DELIVERY_HEADERS: [&str; 6] = ["ID", "TYPE", "STATUS", "ATTEMPTS", "LAST", "CREATED"];

fn last_outcome(d: &WebhookDelivery) -> String {
    match (d.last_status_code, &d.last_error) {
        (Some(code), None) => code.to_string(),
        (Some(code), Some(_)) => format!("{code} (failed)"),
        (None, Some(error)) => error.chars().take(40).collect(),
        (None, None) => String::new(),
    }
}

fn delivery_row(d: &WebhookDelivery, zone: Zone) -> Vec<String> {
    vec![
        d.id.to_string(),
        d.event_type.clone(),
        d.status.to_string(),
        d.attempts.to_string(),
        last_outcome(d),
        zone.format_with_zone(d.created_at),
    ]
}

fn delivery_fields(d: &WebhookDelivery, zone: Zone) -> Vec<(&'static str, String)> {
    let at = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| zone.format_with_zone(t)).unwrap_or_default()
    };
    vec![
        ("id", d.id.to_string()),
        ("webhook", d.webhook_id.to_string()),
        ("type", d.event_type.clone()),
        ("status", d.status.to_string()),
        ("attempts", d.attempts.to_string()),
        ("last", last_outcome(d)),
        ("next attempt", at(d.next_attempt_at)),
        ("delivered", at(d.delivered_at)),
        ("created", zone.format_with_zone(d.created_at)),
    ]
}

/// What `webhooks delivery` prints under the delivery's fields: each attempt.
fn attempts_text(detail: &WebhookDeliveryDetail, zone: Zone) -> String {
    if detail.attempts.is_empty() {
        return "\n(no attempts yet)\n".to_owned();
    }
    let mut text = String::from("\nattempts:\n");
    for a in &detail.attempts {
        let outcome = match (a.status_code, &a.error) {
            (Some(code), None) => code.to_string(),
            (Some(code), Some(error)) => format!("{code}: {error}"),
            (None, Some(error)) => error.clone(),
            (None, None) => String::new(),
        };
        text.push_str(&format!(
            "  #{} {} {} ms  {outcome}\n",
            a.attempt,
            zone.format_with_zone(a.at),
            a.latency_ms
        ));
    }
    text
}

fn print_webhook(ctx: &Context, w: &WebhookEndpoint) -> Result<()> {
    crate::output::print(ctx.out.record(w, &fields(w, ctx.zone))?)?;
    Ok(())
}

fn print_delivery(ctx: &Context, d: &WebhookDelivery) -> Result<()> {
    crate::output::print(ctx.out.record(d, &delivery_fields(d, ctx.zone))?)?;
    Ok(())
}

/// Runs `edupro webhooks …`.
pub async fn run(ctx: &Context, command: WebhooksCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        WebhooksCommand::Add(args) => {
            let body = NewWebhookEndpoint {
                url: args.url,
                events: args.events,
                description: args.description,
            };
            let created = client.create_webhook(&body).await?;
            if ctx.out.format == Format::Json {
                crate::output::print(ctx.out.json(&created)?)?;
            } else {
                print_webhook(ctx, &created)?;
                if let Some(secret) = &created.secret {
                    crate::output::print(format!("secret       {secret}\n"))?;
                }
                ctx.out.note(
                    "Copy the secret now; it is not shown again. Receivers verify the \
                     webhook-signature header with it (Standard Webhooks).",
                );
            }
        }
        WebhooksCommand::List { limit } => {
            let webhooks =
                all_pages::<WebhookEndpointList, _, _>(limit, |at| client.webhooks(at)).await?;
            crate::output::print(ctx.out.list(&webhooks, &HEADERS, |w| row(w, ctx.zone))?)?;
        }
        WebhooksCommand::Show { id } => print_webhook(ctx, &client.webhook(id).await?)?,
        WebhooksCommand::Update(args) => {
            let body = UpdateWebhookEndpoint {
                url: args.url,
                events: (!args.events.is_empty()).then_some(args.events),
                description: args.description,
                active: if args.enable {
                    Some(true)
                } else if args.disable {
                    Some(false)
                } else {
                    None
                },
            };
            if body == UpdateWebhookEndpoint::default() {
                return Err(ClientError::Usage(
                    "nothing to change: give --url, --event, --description, --enable or --disable"
                        .into(),
                ));
            }
            print_webhook(ctx, &client.update_webhook(args.id, &body).await?)?;
        }
        WebhooksCommand::Remove { id } => {
            let deleted = client.delete_webhook(id).await?;
            if ctx.out.format == Format::Json {
                crate::output::print(ctx.out.json(&deleted)?)?;
            } else {
                ctx.out.note(&format!("Deleted webhook {}.", deleted.id));
            }
        }
        WebhooksCommand::Deliveries { id, status, limit } => {
            let filter = WebhookDeliveryFilter {
                page: None,
                limit: None,
                status,
            };
            let deliveries = all_pages::<WebhookDeliveryList, _, _>(limit, |at| {
                client.webhook_deliveries(id, &filter, at)
            })
            .await?;
            crate::output::print(ctx.out.list(&deliveries, &DELIVERY_HEADERS, |d| {
                delivery_row(d, ctx.zone)
            })?)?;
        }
        WebhooksCommand::Delivery { id } => {
            let detail = client.webhook_delivery(id).await?;
            if ctx.out.format == Format::Json {
                crate::output::print(ctx.out.json(&detail)?)?;
            } else {
                print_delivery(ctx, &detail.delivery)?;
                crate::output::print(attempts_text(&detail, ctx.zone))?;
            }
        }
        WebhooksCommand::Resend { delivery } => {
            let d = client.resend_webhook_delivery(delivery).await?;
            print_delivery(ctx, &d)?;
            ctx.out.note("Queued again; it is sent within moments.");
        }
        WebhooksCommand::Test { id } => {
            let d = client.test_webhook(id).await?;
            print_delivery(ctx, &d)?;
            ctx.out.note(&format!(
                "Test ping queued; see `edupro webhooks delivery {}`.",
                d.id
            ));
        }
    }
    Ok(())
}
