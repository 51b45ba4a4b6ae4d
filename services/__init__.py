"""liaison's services: the scheduler, the notifier, and the command line that drives them."""
