namespace CaptionSidecar.FakeRealtime;

/// <summary>What the energy VAD found while audio was appended (times in samples on the session's audio timeline).</summary>
internal abstract record VadEvent
{
    /// <summary>Speech began: <paramref name="ReportedStartSample"/> includes the prefix padding (not before the buffer start).</summary>
    public sealed record SpeechStarted(long ReportedStartSample) : VadEvent;

    /// <summary>
    /// Speech ended at <paramref name="EndSample"/> (end of the last voiced frame); the buffer up to
    /// <paramref name="CommitSample"/> (the end of the silence that ended the turn) is committed.
    /// </summary>
    public sealed record SpeechStopped(long EndSample, long CommitSample) : VadEvent;
}

/// <summary>
/// The session's input audio buffer: counts PCM16 samples and runs a deterministic energy VAD on audio time
/// (sample counts, never the wall clock, so unpaced input gives the same turns as real-time input).
/// 10 ms frames whose RMS is above the threshold are voiced; speech needs ~100 ms of voice (shorter blips are
/// ignored) and ends after the configured silence.
/// </summary>
internal sealed class InputAudioBuffer(double thresholdDbfs)
{
    public const int SampleRate = 24000;
    private const int FrameSamples = SampleRate / 100;
    private const int MinSpeechFrames = 10;
    private const int MaxGapFramesBeforeSpeech = 5;

    private readonly double _thresholdDbfs = thresholdDbfs;
    private TurnDetection? _turnDetection;
    private double _frameSumSquares;
    private int _frameFill;
    private VadState _state = VadState.Silence;
    private long _candidateStart;
    private int _voicedFrames;
    private int _unvoicedFrames;
    private long _lastVoicedEnd;

    private enum VadState
    {
        Silence,
        Candidate,
        Speech,
    }

    /// <summary>Samples appended over the whole session.</summary>
    public long TotalSamples { get; private set; }

    /// <summary>Where the uncommitted buffer starts on the session timeline.</summary>
    public long BufferStartSample { get; private set; }

    /// <summary>Uncommitted audio, in samples.</summary>
    public long BufferedSamples => TotalSamples - BufferStartSample;

    /// <summary>True while the VAD is inside a detected turn.</summary>
    public bool InSpeech => _state == VadState.Speech;

    /// <summary>Switches turn detection (null = manual commits); any turn in progress is forgotten.</summary>
    public void Configure(TurnDetection? turnDetection)
    {
        if (turnDetection != _turnDetection)
        {
            _turnDetection = turnDetection;
            ResetVad();
        }
    }

    /// <summary>Appends whole PCM16 LE samples and returns what the VAD detected in them, in order.</summary>
    public List<VadEvent> Append(ReadOnlySpan<byte> pcm16)
    {
        var events = new List<VadEvent>();
        for (var i = 0; i + 1 < pcm16.Length; i += 2)
        {
            double sample = (short)(pcm16[i] | (pcm16[i + 1] << 8));
            TotalSamples++;
            if (_turnDetection is null)
            {
                continue;
            }

            _frameSumSquares += sample * sample;
            if (++_frameFill == FrameSamples)
            {
                var rms = Math.Sqrt(_frameSumSquares / FrameSamples);
                var dbfs = rms > 0 ? 20 * Math.Log10(rms / 32768.0) : double.NegativeInfinity;
                _frameSumSquares = 0;
                _frameFill = 0;
                OnFrame(dbfs > _thresholdDbfs, TotalSamples - FrameSamples, TotalSamples, _turnDetection, events);
            }
        }

        return events;
    }

    /// <summary>Commits the whole buffer (client commit or clear): a new buffer starts now.</summary>
    public void StartNewBuffer()
    {
        BufferStartSample = TotalSamples;
        ResetVad();
    }

    public static double SamplesToMs(long samples) => samples * 1000.0 / SampleRate;

    private void OnFrame(bool voiced, long frameStart, long frameEnd, TurnDetection turnDetection, List<VadEvent> events)
    {
        switch (_state)
        {
            case VadState.Silence when voiced:
                _state = VadState.Candidate;
                _candidateStart = frameStart;
                _voicedFrames = 1;
                _unvoicedFrames = 0;
                break;
            case VadState.Candidate when voiced:
                _unvoicedFrames = 0;
                if (++_voicedFrames >= MinSpeechFrames)
                {
                    _state = VadState.Speech;
                    _lastVoicedEnd = frameEnd;
                    var padded = _candidateStart - (turnDetection.PrefixPaddingMs * (long)SampleRate / 1000);
                    events.Add(new VadEvent.SpeechStarted(Math.Max(padded, BufferStartSample)));
                }

                break;
            case VadState.Candidate:
                if (++_unvoicedFrames >= MaxGapFramesBeforeSpeech)
                {
                    _state = VadState.Silence;
                }

                break;
            case VadState.Speech when voiced:
                _lastVoicedEnd = frameEnd;
                _unvoicedFrames = 0;
                break;
            case VadState.Speech:
                if (++_unvoicedFrames * 10 >= turnDetection.SilenceDurationMs)
                {
                    events.Add(new VadEvent.SpeechStopped(_lastVoicedEnd, frameEnd));
                    BufferStartSample = frameEnd;
                    _state = VadState.Silence;
                }

                break;
            default:
                break;
        }
    }

    private void ResetVad()
    {
        _state = VadState.Silence;
        _frameSumSquares = 0;
        _frameFill = 0;
        _voicedFrames = 0;
        _unvoicedFrames = 0;
    }
}
