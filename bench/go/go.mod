module grbench

go 1.21
