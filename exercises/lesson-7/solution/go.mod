module example.com/layerlab/hello

go 1.24
