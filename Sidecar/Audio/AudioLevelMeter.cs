namespace CaptionSidecar.Audio;

/// <summary>
/// Levels of the most recent audio for the status page: peak and RMS over about 300 ms, and a speech flag from a
/// plain energy detector (chunk RMS above -45 dBFS for at least 100 ms turns it on; 500 ms below turns it off), so
/// a streamer sees that audio arrives before blaming the captions. Works on audio time (chunks), never the clock.
/// </summary>
internal sealed class AudioLevelMeter
{
    /// <summary>Span of audio the peak and RMS cover.</summary>
    public const int WindowMilliseconds = 300;

    /// <summary>A chunk louder than this (RMS, dBFS) counts as voiced.</summary>
    public const double SpeechThresholdDbfs = -45;

    /// <summary>Voiced audio needed before the flag turns on.</summary>
    public const int SpeechOnMilliseconds = 100;

    /// <summary>Quiet audio needed before the flag turns off again.</summary>
    public const int SpeechHangMilliseconds = 500;

    private static readonly double SpeechThresholdPower = Math.Pow(10, SpeechThresholdDbfs / 10);

    private readonly int _chunkMilliseconds;
    private readonly float[] _peaks;
    private readonly double[] _sumSquares;
    private readonly int[] _counts;
    private long _chunks;
    private int _voicedMs;
    private int _quietMs;

    /// <summary>Creates a meter for chunks of <paramref name="chunkMilliseconds"/>.</summary>
    public AudioLevelMeter(int chunkMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkMilliseconds, 1);
        _chunkMilliseconds = chunkMilliseconds;
        var window = Math.Max(1, (WindowMilliseconds + chunkMilliseconds - 1) / chunkMilliseconds);
        _peaks = new float[window];
        _sumSquares = new double[window];
        _counts = new int[window];
    }

    /// <summary>Peak of the window in dBFS; negative infinity for digital silence.</summary>
    public double PeakDbfs
    {
        get
        {
            var peak = _peaks.Max();
            return peak > 0 ? 20 * Math.Log10(peak) : double.NegativeInfinity;
        }
    }

    /// <summary>RMS of the window in dBFS (a full-scale sine is -3); negative infinity for digital silence.</summary>
    public double RmsDbfs
    {
        get
        {
            var count = _counts.Sum();
            var power = count == 0 ? 0 : _sumSquares.Sum() / count;
            return power > 0 ? 10 * Math.Log10(power) : double.NegativeInfinity;
        }
    }

    /// <summary>True while the detector hears speech (or other sound loud enough for long enough).</summary>
    public bool Speech { get; private set; }

    /// <summary>Adds one chunk of PCM16 little-endian mono audio.</summary>
    public void Add(ReadOnlySpan<byte> pcm16)
    {
        var peak = 0;
        double sum = 0;
        var count = pcm16.Length / 2;
        for (var i = 0; i + 1 < pcm16.Length; i += 2)
        {
            int sample = (short)(pcm16[i] | (pcm16[i + 1] << 8));
            peak = Math.Max(peak, Math.Abs(sample));
            sum += (double)sample * sample;
        }

        var slot = (int)(_chunks++ % _peaks.Length);
        _peaks[slot] = peak / 32768f;
        _sumSquares[slot] = sum / (32768.0 * 32768.0);
        _counts[slot] = count;

        if (count > 0 && sum / count / (32768.0 * 32768.0) > SpeechThresholdPower)
        {
            _voicedMs += _chunkMilliseconds;
            _quietMs = 0;
            Speech |= _voicedMs >= SpeechOnMilliseconds;
        }
        else
        {
            _voicedMs = 0;
            _quietMs += _chunkMilliseconds;
            Speech &= _quietMs < SpeechHangMilliseconds;
        }
    }
}
