"""The sync-rule expression language of Entra Connect declarative provisioning."""
