"""Payments through Stripe: the gateway, and the webhook endpoint that applies Stripe's events."""
