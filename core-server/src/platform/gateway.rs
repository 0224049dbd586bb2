//! Payment gateways: the [`PaymentGateway`] interface and its two implementations.
//!
//! - [`Razorpay`] talks to Razorpay's REST API (`POST /v1/orders`,
//!   `POST /v1/payments/{id}/refund`, basic auth with the key id and secret) at a
//!   configurable base URL, and checks Razorpay's signatures: a checkout's is the hex
//!   HMAC-SHA256 of `order_id|payment_id` with the key secret, a webhook's
//!   (`X-Razorpay-Signature`) the hex HMAC-SHA256 of the raw body with the webhook
//!   secret.
//! - [`TestGateway`] is the built-in stand-in for development and the demo (as Stripe's
//!   test mode): the same ids, signatures and webhook bodies, signed with secrets derived
//!   from this server's JWT secret, and a checkout the server plays itself
//!   (`POST /payments/test-checkout`). Never in production (the settings refuse it).

use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use crate::api::{GatewayKind, RefundStatus};
use crate::platform::config::payments::{GatewaySettings, RazorpaySettings};

/// An order the gateway created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayOrder {
    pub id: String,
}

/// A refund the gateway accepted: processed at once, or pending its webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRefund {
    pub id: String,
    pub status: RefundStatus,
}

/// Why a gateway call failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The gateway answered and refused (a 4xx): its own description.
    #[error("the payment gateway refused: {0}")]
    Refused(String),
    /// No answer, a 5xx or an unreadable one: worth retrying later.
    #[error("the payment gateway is unavailable: {0}")]
    Unavailable(String),
}

/// What every gateway does for the payment service.
#[sea_orm::prelude::async_trait::async_trait]
pub trait PaymentGateway: Send + Sync {
    fn kind(&self) -> GatewayKind;
    /// The public key the checkout needs.
    fn key_id(&self) -> &str;
    /// Creates an order for `amount` minor units; `receipt` is ours (the order's id).
    async fn create_order(
        &self,
        amount: i64,
        currency: &str,
        receipt: &str,
    ) -> Result<GatewayOrder, GatewayError>;
    /// Refunds `amount` of a captured payment; `receipt` is ours (the refund's id).
    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        receipt: &str,
    ) -> Result<GatewayRefund, GatewayError>;
    /// Whether `signature` is the checkout's signature of `order_id|payment_id`.
    fn checkout_signature_valid(&self, order_id: &str, payment_id: &str, signature: &str) -> bool;
    /// Whether `signature` is the webhook signature of `body`.
    fn webhook_signature_valid(&self, body: &[u8], signature: &str) -> bool;
    /// The test gateway's own signer (it plays the checkout and sends the webhooks);
    /// `None` for a real gateway.
    fn test_signer(&self) -> Option<&TestGateway> {
        None
    }
}

/// The gateway the settings name, or `None` when this server takes no payments.
pub fn from_settings(
    settings: &GatewaySettings,
    jwt_secret: &SecretString,
) -> anyhow::Result<Option<std::sync::Arc<dyn PaymentGateway>>> {
    Ok(match settings {
        GatewaySettings::Razorpay(keys) => Some(std::sync::Arc::new(Razorpay::new(keys)?)),
        GatewaySettings::Test => Some(std::sync::Arc::new(TestGateway::new(jwt_secret))),
        GatewaySettings::None => None,
    })
}

type HmacSha256 = Hmac<Sha256>;

/// Hex HMAC-SHA256 of `message` with `key`.
pub fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(message);
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is the HMAC-SHA256 of `message` with `key`, compared in
/// constant time.
fn hmac_matches(key: &[u8], message: &[u8], signature: &str) -> bool {
    let Ok(expected) = data_encoding::HEXLOWER_PERMISSIVE.decode(signature.trim().as_bytes())
    else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return false;
    };
    mac.update(message);
    mac.verify_slice(&expected).is_ok()
}

fn checkout_message(order_id: &str, payment_id: &str) -> Vec<u8> {
    format!("{order_id}|{payment_id}").into_bytes()
}

/// Razorpay over its REST API.
pub struct Razorpay {
    http: reqwest::Client,
    keys: RazorpaySettings,
}

/// Razorpay's error body: `{"error": {"code", "description", "field"}}`.
#[derive(Deserialize)]
struct RazorpayError {
    error: RazorpayErrorBody,
}

#[derive(Deserialize)]
struct RazorpayErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct RazorpayEntity {
    id: String,
    #[serde(default)]
    status: Option<String>,
}

impl Razorpay {
    pub fn new(keys: &RazorpaySettings) -> anyhow::Result<Self> {
        Ok(Self {
            http: crate::platform::outbound::client(Duration::from_secs(20))?,
            keys: keys.clone(),
        })
    }

    async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<RazorpayEntity, GatewayError> {
        let response = self
            .http
            .post(format!("{}{path}", self.keys.api_url))
            .basic_auth(
                &self.keys.key_id,
                Some(self.keys.key_secret.expose_secret()),
            )
            .json(&body)
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| GatewayError::Unavailable(e.without_url().to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                GatewayError::Unavailable(format!("unreadable answer ({status}): {e}"))
            });
        }
        let described = serde_json::from_slice::<RazorpayError>(&bytes)
            .map(|e| format!("{} ({})", e.error.description, e.error.code))
            .unwrap_or_else(|_| format!("HTTP {status}"));
        if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
            Err(GatewayError::Refused(described))
        } else {
            Err(GatewayError::Unavailable(described))
        }
    }
}

#[sea_orm::prelude::async_trait::async_trait]
impl PaymentGateway for Razorpay {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Razorpay
    }

    fn key_id(&self) -> &str {
        &self.keys.key_id
    }

    async fn create_order(
        &self,
        amount: i64,
        currency: &str,
        receipt: &str,
    ) -> Result<GatewayOrder, GatewayError> {
        let order = self
            .post(
                "/v1/orders",
                json!({ "amount": amount, "currency": currency, "receipt": receipt }),
            )
            .await?;
        Ok(GatewayOrder { id: order.id })
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        receipt: &str,
    ) -> Result<GatewayRefund, GatewayError> {
        if payment_id.contains(['/', '?', '#']) {
            return Err(GatewayError::Refused(format!(
                "`{payment_id}` is not a payment id"
            )));
        }
        let refund = self
            .post(
                &format!("/v1/payments/{payment_id}/refund"),
                json!({ "amount": amount, "receipt": receipt, "speed": "normal" }),
            )
            .await?;
        let status = match refund.status.as_deref() {
            Some("processed") => RefundStatus::Processed,
            Some("failed") => RefundStatus::Failed,
            _ => RefundStatus::Pending,
        };
        Ok(GatewayRefund {
            id: refund.id,
            status,
        })
    }

    fn checkout_signature_valid(&self, order_id: &str, payment_id: &str, signature: &str) -> bool {
        hmac_matches(
            self.keys.key_secret.expose_secret().as_bytes(),
            &checkout_message(order_id, payment_id),
            signature,
        )
    }

    fn webhook_signature_valid(&self, body: &[u8], signature: &str) -> bool {
        hmac_matches(
            self.keys.webhook_secret.expose_secret().as_bytes(),
            body,
            signature,
        )
    }
}

/// The built-in test gateway.
pub struct TestGateway {
    key_secret: Vec<u8>,
    webhook_secret: Vec<u8>,
}

impl TestGateway {
    /// Secrets derived from the server's JWT secret: stable across restarts, unknown to
    /// clients (a student cannot sign a payment they did not make).
    pub fn new(jwt_secret: &SecretString) -> Self {
        let derive = |label: &str| {
            hmac_hex(jwt_secret.expose_secret().as_bytes(), label.as_bytes()).into_bytes()
        };
        Self {
            key_secret: derive("edupro test gateway key secret"),
            webhook_secret: derive("edupro test gateway webhook secret"),
        }
    }

    /// The checkout's signature of a payment of `order_id`.
    pub fn sign_checkout(&self, order_id: &str, payment_id: &str) -> String {
        hmac_hex(&self.key_secret, &checkout_message(order_id, payment_id))
    }

    /// The webhook signature of `body`.
    pub fn sign_webhook(&self, body: &[u8]) -> String {
        hmac_hex(&self.webhook_secret, body)
    }
}

/// A fresh id in Razorpay's style: `prefix_` and 14 base-62-ish characters.
fn test_id(prefix: &str) -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{prefix}_test{}", &id[id.len() - 16..])
}

#[sea_orm::prelude::async_trait::async_trait]
impl PaymentGateway for TestGateway {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Test
    }

    fn key_id(&self) -> &str {
        "rzp_test_edupro_builtin"
    }

    async fn create_order(&self, _: i64, _: &str, _: &str) -> Result<GatewayOrder, GatewayError> {
        Ok(GatewayOrder {
            id: test_id("order"),
        })
    }

    async fn refund(&self, _: &str, _: i64, _: &str) -> Result<GatewayRefund, GatewayError> {
        Ok(GatewayRefund {
            id: test_id("rfnd"),
            status: RefundStatus::Processed,
        })
    }

    fn checkout_signature_valid(&self, order_id: &str, payment_id: &str, signature: &str) -> bool {
        hmac_matches(
            &self.key_secret,
            &checkout_message(order_id, payment_id),
            signature,
        )
    }

    fn webhook_signature_valid(&self, body: &[u8], signature: &str) -> bool {
        hmac_matches(&self.webhook_secret, body, signature)
    }

    fn test_signer(&self) -> Option<&TestGateway> {
        Some(self)
    }
}

/// A new payment id of the test gateway.
pub fn test_payment_id() -> String {
    test_id("pay")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_signatures_are_hmac_of_order_and_payment() {
        // Razorpay's documented construction, computed independently.
        let key = b"secret";
        let signature = hmac_hex(key, b"order_1|pay_1");
        assert!(hmac_matches(
            key,
            &checkout_message("order_1", "pay_1"),
            &signature
        ));
        assert!(!hmac_matches(
            key,
            &checkout_message("order_1", "pay_2"),
            &signature
        ));
        assert!(!hmac_matches(
            key,
            &checkout_message("order_1", "pay_1"),
            "zz"
        ));
        assert!(!hmac_matches(
            key,
            &checkout_message("order_1", "pay_1"),
            ""
        ));
    }

    #[test]
    fn the_test_gateway_signs_what_it_verifies_and_nothing_else() {
        let gateway = TestGateway::new(&SecretString::from("x".repeat(40)));
        let signature = gateway.sign_checkout("order_a", "pay_b");
        assert!(gateway.checkout_signature_valid("order_a", "pay_b", &signature));
        assert!(!gateway.checkout_signature_valid("order_a", "pay_c", &signature));
        let other = TestGateway::new(&SecretString::from("y".repeat(40)));
        assert!(!other.checkout_signature_valid("order_a", "pay_b", &signature));
        let body = br#"{"event":"payment.captured"}"#;
        assert!(gateway.webhook_signature_valid(body, &gateway.sign_webhook(body)));
        assert!(!gateway.webhook_signature_valid(b"{}", &gateway.sign_webhook(body)));
    }
}
