"""Live watches: one scheduler keeps every live message current until its tasks are done."""
