"""Plays a referral scenario through segment-analytics-python against rehook-mock's front door.

    python referral.py <base URL of the fake> [write key]

An advocate identifies with a referral code, a friend signs up with that code, an
anonymous-only visitor views a product, and the friend views a page. The library batches the
calls and posts them gzip-compressed to <base URL>/v1/batch (retrying as it always does); the
script exits once everything is flushed: 0 when every batch was accepted, 1 otherwise.
"""

import sys

from segment.analytics import Client


def main(argv):
    if len(argv) < 2:
        print("usage: python referral.py <base URL> [write key]", file=sys.stderr)
        return 2
    host = argv[1]
    write_key = argv[2] if len(argv) > 2 else "wk_test"
    errors = []

    def on_error(error, batch):
        errors.append(error)
        print("analytics-python error:", error, file=sys.stderr)

    client = Client(
        write_key,
        host=host,
        gzip=True,
        on_error=on_error,
        # One batch for the whole scenario, sent when the script flushes.
        upload_size=100,
        upload_interval=0.5,
        timeout=10,
    )
    client.identify(
        "py-advocate",
        {"name": "Paula Python", "plan": "pro", "referral_code": "PYADV", "newsletter": False},
    )
    client.track("py-friend", "signup", {"referral_code": "PYADV", "source": "invite-link"})
    client.track(event="Product Viewed", properties={"sku": "sku-1"}, anonymous_id="py-anon-1")
    client.page("py-friend", name="Pricing", properties={"path": "/pricing"})
    client.flush()
    client.shutdown()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
