"""The polling daemon: scheduling (`schedule`), work sharing (`leases`), the loop (`runner`),
alerts and reminders (`alerts`), Prometheus metrics (`metrics`), the command (`cli`)."""
