using System.Buffers.Binary;
using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>Pipeline audio made in the test: tone bursts (which an energy detector hears as speech) and silence.</summary>
internal sealed class ToneAudio
{
    private const int ChunkSamples = 480; // 20 ms
    private long _sequence;
    private long _sample;

    /// <summary>Chunks of a 440 Hz tone at -12 dBFS lasting <paramref name="duration"/>.</summary>
    public IEnumerable<AudioChunk> Tone(TimeSpan duration) => Make(duration, tone: true);

    /// <summary>Chunks of digital silence lasting <paramref name="duration"/>.</summary>
    public IEnumerable<AudioChunk> Silence(TimeSpan duration) => Make(duration, tone: false);

    private IEnumerable<AudioChunk> Make(TimeSpan duration, bool tone)
    {
        var chunks = (int)Math.Round(duration.TotalMilliseconds / 20);
        for (var c = 0; c < chunks; c++)
        {
            var bytes = new byte[ChunkSamples * 2];
            if (tone)
            {
                for (var i = 0; i < ChunkSamples; i++)
                {
                    var t = (double)(_sample + i) / AudioChunk.SampleRate;
                    var value = (short)(Math.Sin(2 * Math.PI * 440 * t) * 0.25 * short.MaxValue);
                    BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), value);
                }
            }

            yield return new AudioChunk(_sequence++, _sample, bytes);
            _sample += ChunkSamples;
        }
    }
}
