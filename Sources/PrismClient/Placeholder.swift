// PrismClient
