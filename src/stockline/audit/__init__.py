"""The audit log of privileged changes: `record` writes an entry in the transaction of the
change it records. Below every domain that changes things (beside auth, above the kernel),
so each can record its own changes; the read side is stockline.reporting.audit_log."""
