import keras

# Your trained model (a stand-in here); Keras takes images channels-last, [N, H, W, C].
model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])

model.export("model.onnx", format="onnx")  # Keras 3.8 or later
