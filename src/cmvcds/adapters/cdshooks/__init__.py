"""CDS Hooks 2.0.1 services: discovery, patient-view and order-sign/order-select, feedback."""
