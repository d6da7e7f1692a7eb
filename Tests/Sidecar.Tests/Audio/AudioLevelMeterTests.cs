using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

public sealed class AudioLevelMeterTests
{
    private const int ChunkMs = 20;
    private const int ChunkSamples = 480; // 20 ms at 24 kHz

    private static byte[] Chunk(double amplitude)
    {
        var sine = SignalMath.Sine(1_000, 24_000, ChunkSamples, amplitude);
        var pcm = new byte[ChunkSamples * 2];
        for (var i = 0; i < sine.Length; i++)
        {
            var s = (short)Math.Round(sine[i] * 32_767);
            pcm[2 * i] = (byte)s;
            pcm[(2 * i) + 1] = (byte)(s >> 8);
        }

        return pcm;
    }

    private static void Add(AudioLevelMeter meter, double amplitude, int milliseconds)
    {
        for (var t = 0; t < milliseconds; t += ChunkMs)
        {
            meter.Add(Chunk(amplitude));
        }
    }

    [Fact]
    public void Speech_VoicedFor100Ms_TurnsOnOnlyThen()
    {
        var meter = new AudioLevelMeter(ChunkMs);

        Add(meter, 0.1, 80);
        Assert.False(meter.Speech);
        Add(meter, 0.1, 20);
        Assert.True(meter.Speech);
    }

    [Fact]
    public void Speech_AfterVoice_HangsFor500MsOfQuiet()
    {
        var meter = new AudioLevelMeter(ChunkMs);
        Add(meter, 0.1, 200);

        Add(meter, 0, 480);
        Assert.True(meter.Speech);
        Add(meter, 0, 20);
        Assert.False(meter.Speech);
    }

    [Fact]
    public void Speech_SoundBelowMinus45Dbfs_StaysOff()
    {
        var meter = new AudioLevelMeter(ChunkMs);

        Add(meter, Math.Pow(10, -50 / 20.0), 1_000); // RMS about -53 dBFS

        Assert.False(meter.Speech);
        Assert.InRange(meter.RmsDbfs, -53.5, -52.5);
    }

    [Fact]
    public void Levels_CoverOnlyTheLast300Ms()
    {
        var meter = new AudioLevelMeter(ChunkMs);
        Add(meter, 0.5, 200);

        Add(meter, 0, 300);

        Assert.Equal(double.NegativeInfinity, meter.PeakDbfs);
        Assert.Equal(double.NegativeInfinity, meter.RmsDbfs);
    }
}
