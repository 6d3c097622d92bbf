"""The worker fleet: which queue work goes to, what each worker says about itself, and what
the staff page shows (workers, queue depths, wait and scoring times)."""
