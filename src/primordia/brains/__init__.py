"""Brain substrates: one subpackage per kind of organism program."""
