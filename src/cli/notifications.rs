//! `edupro notifications list|read`: the signed-in user's inbox.

use clap::{Args, Subcommand};
use edupro_server::api::{Notification, NotificationFilter, Pagination};

use super::Context;
use crate::api::{self, ApiClient};
use crate::error::{ClientError, Result};

/// `edupro notifications …`.
#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// List your notifications, newest first (all pages unless --limit).
    List(ListArgs),
    /// Mark a notification read, or every one with --all.
    Read(ReadArgs),
}

/// Filters of `notifications list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only unread ones.
    #[arg(long)]
    pub unread: bool,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// What `notifications read` marks.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The notification's id.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub id: Option<i64>,
    /// Every unread notification.
    #[arg(long)]
    pub all: bool,
}

const HEADERS: [&str; 6] = ["ID", "TYPE", "TITLE", "MESSAGE", "READ", "CREATED"];

fn row(n: &Notification, zone: crate::when::Zone) -> Vec<String> {
    vec![
        n.id.to_string(),
        n.kind.to_string(),
        n.title.clone(),
        n.message.clone(),
        if n.is_read { "yes" } else { "" }.into(),
        zone.format(n.created_at),
    ]
}

fn fields(n: &Notification, zone: crate::when::Zone) -> Vec<(&'static str, String)> {
    vec![
        ("id", n.id.to_string()),
        ("type", n.kind.to_string()),
        ("title", n.title.clone()),
        ("message", n.message.clone()),
        ("read", n.is_read.to_string()),
        ("created", zone.format_with_zone(n.created_at)),
    ]
}

/// Every page of `GET /notifications` (or up to `limit`).
pub async fn list_all(client: &ApiClient, args: &ListArgs) -> Result<Vec<Notification>> {
    let filter = NotificationFilter {
        unread_only: args.unread.then_some(true),
        ..NotificationFilter::default()
    };
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let list = client.notifications(&filter, api::page(page, 100)).await?;
        let Pagination { has_next, .. } = list.pagination;
        all.extend(list.notifications);
        if let Some(limit) = args.limit
            && all.len() as u64 >= limit
        {
            all.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            break;
        }
        if !has_next {
            break;
        }
        page += 1;
    }
    Ok(all)
}

/// Runs `edupro notifications …`.
pub async fn run(ctx: &Context, command: NotificationsCommand) -> Result<()> {
    let client = ctx.client()?;
    match command {
        NotificationsCommand::List(args) => {
            let list = list_all(&client, &args).await?;
            crate::output::print(ctx.out.list(&list, &HEADERS, |n| row(n, ctx.zone))?)?;
        }
        NotificationsCommand::Read(ReadArgs { all: true, .. }) => {
            let marked = client.mark_all_read().await?;
            if ctx.out.format == crate::output::Format::Json {
                crate::output::print(ctx.out.json(&marked)?)?;
            } else {
                ctx.out
                    .note(&format!("Marked {} notification(s) read", marked.marked));
            }
        }
        NotificationsCommand::Read(ReadArgs { id: Some(id), .. }) => {
            let read = client.mark_read(id).await?;
            crate::output::print(ctx.out.record(&read, &fields(&read, ctx.zone))?)?;
        }
        NotificationsCommand::Read(_) => {
            return Err(ClientError::Usage(
                "give a notification id, or --all".into(),
            ));
        }
    }
    Ok(())
}
