//! The client against a base URL with a path: the Rehook API under the path, the admin API
//! at the origin.

use rehook_harness::Client;
use rehook_mock::MockRehook;
use serde_json::json;

#[tokio::test]
async fn with_a_base_path_rehook_calls_keep_it_and_admin_calls_go_to_the_origin() {
    let mock = MockRehook::start().await;
    let base = format!("{}/api", mock.base_url());
    let client = Client::new(&base, mock.api_key(), mock.api_secret()).expect("valid base URL");
    assert_eq!(client.base_url(), base);

    let created = client
        .upsert_customer(&json!({"source_id": "u-1", "referral_code": "ADA"}))
        .await
        .expect("answered");
    assert_eq!(created.status, 201);
    let taken = client
        .upsert_customer(&json!({"source_id": "u-2", "referral_code": "ADA"}))
        .await
        .expect("answered");
    assert_eq!(taken.error_code(), Some("REFERRAL_CODE_TAKEN"));
    let event = client
        .invoke_event(&json!({"event_name": "opened_app", "source_id": "u-1"}))
        .await
        .expect("answered");
    assert_eq!(event.status, 200);

    let customers = client.admin_customers().await.expect("admin customers");
    assert_eq!(
        customers
            .iter()
            .map(|c| (c.source_id.as_str(), c.referral_code.as_str()))
            .collect::<Vec<_>>(),
        [("u-1", "ADA")]
    );
    let events = client.admin_events().await.expect("admin events");
    assert_eq!(
        events
            .iter()
            .map(|e| (e.event_name.as_str(), e.source_id.as_str()))
            .collect::<Vec<_>>(),
        [("opened_app", "u-1")]
    );
    let drops = client.admin_drops().await.expect("admin drops");
    assert_eq!(
        drops
            .iter()
            .map(|d| (d.endpoint.as_str(), d.reason.as_str(), d.status))
            .collect::<Vec<_>>(),
        [("POST /api/customers", "REFERRAL_CODE_TAKEN", 409)]
    );

    client.admin_reset().await.expect("admin reset");
    assert_eq!(client.admin_customers().await.expect("admin customers"), []);
    assert!(mock.store().customers(None).unwrap().is_empty());
}
