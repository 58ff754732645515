"""First-party tracking: public beacon, click, engagement and postback endpoints, the
append-only event store, and the rollup into the metrics fact store."""
