// PrismBroker
