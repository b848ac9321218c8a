module grwaiters

go 1.21
