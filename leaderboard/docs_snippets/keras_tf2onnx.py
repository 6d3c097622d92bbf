import tensorflow as tf
import tf2onnx

# Your trained tf.keras model (a stand-in here); channels-last, [N, H, W, C].
model = tf.keras.Sequential(
    [tf.keras.Input((28, 28, 1)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(10)]
)

signature = (tf.TensorSpec((None, 28, 28, 1), tf.float32, name="input"),)  # any batch size
tf2onnx.convert.from_keras(model, input_signature=signature, output_path="model.onnx")
