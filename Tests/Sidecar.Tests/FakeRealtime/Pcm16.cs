namespace CaptionSidecar.Tests.FakeRealtime;

/// <summary>Synthesised PCM16 LE mono 24 kHz test audio.</summary>
internal static class Pcm16
{
    public const int SampleRate = 24000;

    /// <summary>A sine tone with its peak at <paramref name="peakDbfs"/>.</summary>
    public static byte[] Tone(int ms, double hz = 440, double peakDbfs = -12)
    {
        var samples = SampleRate * ms / 1000;
        var amplitude = 32767 * Math.Pow(10, peakDbfs / 20);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var value = (short)Math.Round(amplitude * Math.Sin(2 * Math.PI * hz * i / SampleRate));
            pcm[2 * i] = (byte)value;
            pcm[(2 * i) + 1] = (byte)(value >> 8);
        }

        return pcm;
    }

    public static byte[] Silence(int ms) => new byte[SampleRate * ms / 1000 * 2];

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
