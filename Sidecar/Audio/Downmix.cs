namespace CaptionSidecar.Audio;

/// <summary>Turns interleaved multi-channel samples into mono by averaging the channels of each frame.</summary>
internal static class Downmix
{
    /// <summary>
    /// Writes the mono average of each frame of <paramref name="interleaved"/> into <paramref name="mono"/> and
    /// returns the frame count. With one channel the samples are copied.
    /// </summary>
    public static int ToMono(ReadOnlySpan<float> interleaved, int channels, Span<float> mono)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        var frames = interleaved.Length / channels;
        if (mono.Length < frames)
        {
            throw new ArgumentException($"The mono buffer holds {mono.Length} samples; {frames} are needed.", nameof(mono));
        }

        switch (channels)
        {
            case 1:
                interleaved[..frames].CopyTo(mono);
                break;
            case 2:
                for (var f = 0; f < frames; f++)
                {
                    mono[f] = (interleaved[2 * f] + interleaved[(2 * f) + 1]) * 0.5f;
                }

                break;
            default:
                var scale = 1f / channels;
                for (var f = 0; f < frames; f++)
                {
                    var sum = 0f;
                    var frame = interleaved.Slice(f * channels, channels);
                    foreach (var s in frame)
                    {
                        sum += s;
                    }

                    mono[f] = sum * scale;
                }

                break;
        }

        return frames;
    }
}
