// PrismWorker
