namespace CaptionSidecar.Audio;

/// <summary>
/// What the voice gate needs: its thresholds and the pre-roll from <see cref="VoiceGateOptions"/>, and the hangover,
/// which the composition root derives from the Realtime turn detection (Audio does not know Realtime).
/// </summary>
/// <param name="Hangover">Audio still sent after the voice ends, so the server's VAD can end the turn.</param>
public sealed record VoiceGateSettings(TimeSpan Hangover)
{
    /// <summary>Default <see cref="MinimumLevelDbfs"/>.</summary>
    public const double DefaultMinimumLevelDbfs = -50;

    /// <summary>Default <see cref="AboveNoiseFloorDb"/>.</summary>
    public const double DefaultAboveNoiseFloorDb = 10;

    /// <summary>Default onset, in milliseconds.</summary>
    public const int DefaultOnsetMilliseconds = 60;

    /// <summary>Default pre-roll, in milliseconds (the server VAD's own <c>prefix_padding_ms</c>).</summary>
    public const int DefaultPreRollMilliseconds = 300;

    /// <summary>A chunk quieter than this (speech-band RMS, dBFS) never counts as voice.</summary>
    public double MinimumLevelDbfs { get; init; } = DefaultMinimumLevelDbfs;

    /// <summary>How far above the noise floor a chunk must be to count as voice, in dB.</summary>
    public double AboveNoiseFloorDb { get; init; } = DefaultAboveNoiseFloorDb;

    /// <summary>Voice needed without a break before the gate opens.</summary>
    public TimeSpan Onset { get; init; } = TimeSpan.FromMilliseconds(DefaultOnsetMilliseconds);

    /// <summary>Audio before the voice that is sent when the gate opens.</summary>
    public TimeSpan PreRoll { get; init; } = TimeSpan.FromMilliseconds(DefaultPreRollMilliseconds);

    /// <summary>The settings that <paramref name="options"/> ask for; <paramref name="derivedHangover"/> applies unless they set one.</summary>
    public static VoiceGateSettings From(VoiceGateOptions options, TimeSpan derivedHangover)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hangover = options.HangoverMilliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : derivedHangover;
        return new VoiceGateSettings(hangover)
        {
            MinimumLevelDbfs = options.MinimumLevelDbfs,
            AboveNoiseFloorDb = options.AboveNoiseFloorDb,
            Onset = TimeSpan.FromMilliseconds(options.OnsetMilliseconds),
            PreRoll = TimeSpan.FromMilliseconds(options.PreRollMilliseconds),
        };
    }
}

/// <summary>
/// Decides chunk by chunk which audio the paid Realtime sessions hear: voice with some audio before it (pre-roll)
/// and after it (hangover); silence and steady noise are held back. Pure and single-threaded: one instance sees
/// every chunk of the pipeline in order, so every language gets the same decision. Forwarded chunks keep their
/// sequence numbers and timeline positions; a session maps the gaps between them (see <c>SessionTimeline</c>).
/// </summary>
/// <remarks>
/// <para>Detection is an energy detector on the speech band. A chunk is voiced when its RMS after a 150 Hz
/// high-pass is above <see cref="VoiceGateSettings.MinimumLevelDbfs"/> and <see cref="VoiceGateSettings.AboveNoiseFloorDb"/>
/// above an adaptive noise floor. The floor follows the quiet level: it falls fast (time constant 50 ms) and rises
/// slowly (4 s), so a fan or hum that creeps up becomes the floor instead of holding the gate open, while the dips
/// between words keep it at the room's level during speech. The gate opens after <see cref="VoiceGateSettings.Onset"/>
/// of voiced chunks without a break, so a click or a knock does not open it.</para>
/// <para>Why a high-pass rather than a zero-crossing rate or a band-energy ratio: mains hum and rumble sit below
/// 150 Hz, and a fourth-order Butterworth high-pass takes 50 Hz down by 38 dB and 60 Hz by 32 dB for a few
/// multiplications a sample, while the harmonics and formants of even a low voice (200 Hz and up) pass. A
/// zero-crossing rate is unreliable on voiced vowels (low rate, like rumble) and on broadband noise (high rate, like
/// fricatives); a ratio needs a second threshold to tune. The level meter on the status page stays broadband.</para>
/// <para>Hangover: after the voice ends the gate keeps sending real audio for <see cref="VoiceGateSettings.Hangover"/>,
/// long enough for the server's VAD to end the turn; then it closes and holds back the silence.</para>
/// </remarks>
internal sealed class VoiceGate
{
    private const double HighPassHz = 150;
    private const double SilenceDbfs = -120;
    private static readonly TimeSpan FloorFallTime = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan FloorRiseTime = TimeSpan.FromSeconds(4);

    private readonly VoiceGateSettings _settings;
    private readonly long _onsetSamples;
    private readonly long _heldCapacitySamples;
    private readonly long _hangoverSamples;
    private readonly Queue<AudioChunk> _held = new();
    private readonly Biquad _highPass1;
    private readonly Biquad _highPass2;
    private long _heldSamples;
    private long _voicedRunSamples;
    private long _sinceVoiceSamples;

    /// <summary>Creates a closed gate.</summary>
    public VoiceGate(VoiceGateSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _onsetSamples = Samples(settings.Onset);
        _hangoverSamples = Samples(settings.Hangover);
        // While closed the gate keeps the pre-roll and the voiced chunks of an onset that has not yet opened it.
        _heldCapacitySamples = Samples(settings.PreRoll) + _onsetSamples;
        // Fourth-order Butterworth high-pass: two biquads with the Butterworth Qs.
        _highPass1 = Biquad.HighPass(HighPassHz, 0.54119610);
        _highPass2 = Biquad.HighPass(HighPassHz, 1.30656296);
        NoiseFloorDbfs = settings.MinimumLevelDbfs;
    }

    /// <summary>True while the gate forwards audio.</summary>
    public bool IsOpen { get; private set; }

    /// <summary>Samples the gate has seen.</summary>
    public long ProcessedSamples { get; private set; }

    /// <summary>Samples the gate has forwarded.</summary>
    public long ForwardedSamples { get; private set; }

    /// <summary>Samples not forwarded (so far): the audio the sessions did not hear and were not billed for.</summary>
    public long HeldBackSamples => ProcessedSamples - ForwardedSamples;

    /// <summary>The adaptive noise floor (speech-band RMS, dBFS).</summary>
    public double NoiseFloorDbfs { get; private set; }

    /// <summary>
    /// Takes the next chunk of the pipeline and adds to <paramref name="forward"/> what the sessions should hear now:
    /// nothing (held back), this chunk, or, when the gate opens, the held pre-roll followed by this chunk, in order.
    /// </summary>
    public void Process(AudioChunk chunk, ICollection<AudioChunk> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ProcessedSamples += chunk.SampleCount;
        var level = SpeechBandLevel(chunk.Pcm16.Span);
        var voiced = level > _settings.MinimumLevelDbfs && level > NoiseFloorDbfs + _settings.AboveNoiseFloorDb;
        UpdateNoiseFloor(level, chunk.SampleCount);
        _voicedRunSamples = voiced ? _voicedRunSamples + chunk.SampleCount : 0;
        var voice = voiced && _voicedRunSamples >= _onsetSamples;

        if (IsOpen)
        {
            Forward(chunk, forward);
            _sinceVoiceSamples = voice ? 0 : _sinceVoiceSamples + chunk.SampleCount;
            if (_sinceVoiceSamples >= _hangoverSamples)
            {
                IsOpen = false;
            }

            return;
        }

        _held.Enqueue(chunk);
        _heldSamples += chunk.SampleCount;
        while (_held.Count > 1 && _heldSamples - _held.Peek().SampleCount >= _heldCapacitySamples)
        {
            _heldSamples -= _held.Dequeue().SampleCount;
        }

        if (voice)
        {
            IsOpen = true;
            _sinceVoiceSamples = 0;
            while (_held.TryDequeue(out var held))
            {
                Forward(held, forward);
            }

            _heldSamples = 0;
        }
    }

    private static long Samples(TimeSpan span) => (long)Math.Round(span.TotalSeconds * AudioChunk.SampleRate);

    private void Forward(AudioChunk chunk, ICollection<AudioChunk> forward)
    {
        forward.Add(chunk);
        ForwardedSamples += chunk.SampleCount;
    }

    private double SpeechBandLevel(ReadOnlySpan<byte> pcm16)
    {
        double sum = 0;
        var count = pcm16.Length / 2;
        for (var i = 0; i + 1 < pcm16.Length; i += 2)
        {
            var x = (short)(pcm16[i] | (pcm16[i + 1] << 8)) / 32768.0;
            var y = _highPass2.Next(_highPass1.Next(x));
            sum += y * y;
        }

        var power = count == 0 ? 0 : sum / count;
        return power > 0 ? Math.Max(SilenceDbfs, 10 * Math.Log10(power)) : SilenceDbfs;
    }

    private void UpdateNoiseFloor(double level, int sampleCount)
    {
        var seconds = (double)sampleCount / AudioChunk.SampleRate;
        var timeConstant = level < NoiseFloorDbfs ? FloorFallTime : FloorRiseTime;
        NoiseFloorDbfs += (level - NoiseFloorDbfs) * (1 - Math.Exp(-seconds / timeConstant.TotalSeconds));
    }

    /// <summary>A second-order section (RBJ audio EQ cookbook), transposed direct form II.</summary>
    private sealed class Biquad(double b0, double b1, double b2, double a1, double a2)
    {
        private double _z1;
        private double _z2;

        public static Biquad HighPass(double cornerHz, double q)
        {
            var w0 = 2 * Math.PI * cornerHz / AudioChunk.SampleRate;
            var cos = Math.Cos(w0);
            var alpha = Math.Sin(w0) / (2 * q);
            var a0 = 1 + alpha;
            return new Biquad((1 + cos) / 2 / a0, -(1 + cos) / a0, (1 + cos) / 2 / a0, -2 * cos / a0, (1 - alpha) / a0);
        }

        public double Next(double x)
        {
            var y = (b0 * x) + _z1;
            _z1 = (b1 * x) - (a1 * y) + _z2;
            _z2 = (b2 * x) - (a2 * y);
            return y;
        }
    }
}
