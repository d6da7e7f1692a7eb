using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CaptionSidecar.Audio;

/// <summary>Converts interleaved device frames (<see cref="CaptureFormat"/>) to interleaved float samples in [-1, 1].</summary>
internal static class SampleConverter
{
    /// <summary>
    /// Converts the whole frames of <paramref name="data"/> into <paramref name="destination"/> (same channel
    /// order) and returns the number of samples written. Integer samples are scaled by their container's full
    /// scale, so 24 valid bits left-justified in 32 come out right; float samples are copied unchanged (the chunker
    /// clamps).
    /// </summary>
    public static int ToFloat(ReadOnlySpan<byte> data, CaptureFormat format, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(format);
        var frames = data.Length / format.BytesPerFrame;
        var samples = frames * format.Channels;
        if (destination.Length < samples)
        {
            throw new ArgumentException($"The buffer holds {destination.Length} samples; {samples} are needed.", nameof(destination));
        }

        data = data[..(frames * format.BytesPerFrame)];
        var output = destination[..samples];
        switch (format.Encoding)
        {
            case CaptureSampleEncoding.Float32:
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.Cast<byte, float>(data).CopyTo(output);
                }
                else
                {
                    for (var i = 0; i < samples; i++)
                    {
                        output[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
                    }
                }

                break;
            case CaptureSampleEncoding.Pcm16:
                for (var i = 0; i < samples; i++)
                {
                    output[i] = BinaryPrimitives.ReadInt16LittleEndian(data[(2 * i)..]) * (1f / 32_768f);
                }

                break;
            case CaptureSampleEncoding.Pcm24:
                for (var i = 0; i < samples; i++)
                {
                    var b = data.Slice(3 * i, 3);
                    output[i] = (b[0] | (b[1] << 8) | ((sbyte)b[2] << 16)) * (1f / 8_388_608f);
                }

                break;
            case CaptureSampleEncoding.Pcm32:
                for (var i = 0; i < samples; i++)
                {
                    output[i] = (float)(BinaryPrimitives.ReadInt32LittleEndian(data[(4 * i)..]) * (1.0 / 2_147_483_648.0));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format.Encoding, "Unknown sample encoding.");
        }

        return samples;
    }
}
