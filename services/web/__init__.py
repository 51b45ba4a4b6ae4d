"""liaison's HTTP face: Twilio webhooks, the REST API, health, metrics and the ops dashboard.

`create_app(settings)` builds the application; nothing connects until a request asks.
"""
