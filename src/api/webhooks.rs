//! `/webhooks` and `/webhook-deliveries` (admins): outgoing webhook endpoints, their
//! deliveries with every attempt, resending, and a test ping.

use edupro_server::api::{
    Deleted, NewWebhookEndpoint, PageQuery, UpdateWebhookEndpoint, WebhookDelivery,
    WebhookDeliveryDetail, WebhookDeliveryFilter, WebhookDeliveryList, WebhookEndpoint,
    WebhookEndpointList,
};
use uuid::Uuid;

use super::ApiClient;
use crate::error::Result;

impl ApiClient {
    /// `POST /webhooks`: the new endpoint with its secret (shown this once).
    pub async fn create_webhook(&self, body: &NewWebhookEndpoint) -> Result<WebhookEndpoint> {
        self.post_json("/webhooks", body).await
    }

    /// `GET /webhooks`: page `at` of the endpoints, newest first.
    pub async fn webhooks(&self, at: PageQuery) -> Result<WebhookEndpointList> {
        self.get("/webhooks", &at).await
    }

    /// `GET /webhooks/{id}`.
    pub async fn webhook(&self, id: Uuid) -> Result<WebhookEndpoint> {
        self.get(&format!("/webhooks/{id}"), &()).await
    }

    /// `PATCH /webhooks/{id}`.
    pub async fn update_webhook(
        &self,
        id: Uuid,
        body: &UpdateWebhookEndpoint,
    ) -> Result<WebhookEndpoint> {
        self.patch(&format!("/webhooks/{id}"), &(), body).await
    }

    /// `DELETE /webhooks/{id}`.
    pub async fn delete_webhook(&self, id: Uuid) -> Result<Deleted> {
        self.delete(&format!("/webhooks/{id}"), &()).await
    }

    /// `GET /webhooks/{id}/deliveries`: page `at` of what `filter` matches, newest first.
    pub async fn webhook_deliveries(
        &self,
        id: Uuid,
        filter: &WebhookDeliveryFilter,
        at: PageQuery,
    ) -> Result<WebhookDeliveryList> {
        let query = WebhookDeliveryFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get(&format!("/webhooks/{id}/deliveries"), &query)
            .await
    }

    /// `POST /webhooks/{id}/test`: a `webhook.test` ping, queued.
    pub async fn test_webhook(&self, id: Uuid) -> Result<WebhookDelivery> {
        self.post_action(&format!("/webhooks/{id}/test")).await
    }

    /// `GET /webhook-deliveries/{id}`: the delivery, its body and attempts.
    pub async fn webhook_delivery(&self, id: Uuid) -> Result<WebhookDeliveryDetail> {
        self.get(&format!("/webhook-deliveries/{id}"), &()).await
    }

    /// `POST /webhook-deliveries/{id}/resend`.
    pub async fn resend_webhook_delivery(&self, id: Uuid) -> Result<WebhookDelivery> {
        self.post_action(&format!("/webhook-deliveries/{id}/resend"))
            .await
    }
}
