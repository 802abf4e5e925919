// PrismTelemetry
