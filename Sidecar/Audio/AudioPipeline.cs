using System.Threading.Channels;

namespace CaptionSidecar.Audio;

/// <summary>Counters of the audio path for status output.</summary>
/// <param name="ChunksProduced">Chunks made since start.</param>
/// <param name="ChunksDropped">Chunks dropped because the capture-to-network queue was full (live sources only).</param>
/// <param name="AudioDuration">Audio produced, on the 24 kHz timeline.</param>
/// <param name="PeakDbfs">Peak level of the last ~300 ms, dBFS (negative infinity for digital silence).</param>
/// <param name="RmsDbfs">RMS level of the last ~300 ms, dBFS (negative infinity for digital silence).</param>
/// <param name="Speech">True while the local energy detector hears speech (see <see cref="AudioLevelMeter"/>).</param>
/// <param name="VoiceGateOpen">True while the voice gate sends audio to the sessions, false while it holds silence back; null when the gate is off.</param>
/// <param name="HeldBack">Audio the voice gate did not send to the sessions (not billed); zero when the gate is off.</param>
/// <param name="Muted">True while the audio hold (the streamer's mic muted in OBS) keeps all audio from the sessions; null when there is no hold.</param>
/// <param name="MutedDuration">Audio captured while held, none of which reached a session (the start of each hold went as digital silence).</param>
public sealed record AudioPipelineStats(
    long ChunksProduced,
    long ChunksDropped,
    TimeSpan AudioDuration,
    double PeakDbfs,
    double RmsDbfs,
    bool Speech,
    bool? VoiceGateOpen = null,
    TimeSpan HeldBack = default,
    bool? Muted = null,
    TimeSpan MutedDuration = default);

/// <summary>
/// Source -> downmix -> resample to 24 kHz -> fixed chunks -> audio hold (when set) -> voice gate (when on) -> bounded
/// queue. Hold and gate are applied here, once, before the fan-out, so every language hears the same audio. While the
/// hold is on (the streamer's mic is muted in OBS), the first <see cref="AudioHoldSettings.ClosingSilence"/> of audio
/// is replaced by digital silence at the same timeline positions (so the server's VAD ends the turn in progress and
/// its last words are captioned; the gate, when on, passes it only if a turn is open), and every later chunk is
/// dropped: nothing is sent, nothing is buffered. When the hold ends audio flows again; sessions see a gap. For a live source a full queue
/// drops its oldest chunk (counted, logged at most every 10 s); otherwise the pipeline waits for the reader. A source
/// that can outrun real time (a file) is paced to real time unless <see cref="AudioOptions.NoPacing"/> is set.
/// </summary>
public sealed partial class AudioPipeline
{
    private static readonly TimeSpan DropLogInterval = TimeSpan.FromSeconds(10);

    private readonly IAudioSource _source;
    private readonly AudioOptions _options;
    private readonly ILogger<AudioPipeline> _logger;
    private readonly TimeProvider _time;
    private readonly Channel<AudioChunk> _output;
    private readonly Lock _statsGate = new();
    private readonly AudioLevelMeter _levels;
    private readonly VoiceGate? _gate;
    private readonly AudioHoldSettings? _hold;
    private readonly long _closingSilenceSamples;
    private bool _held;
    private long _closingSilenceLeft;
    private long _mutedSamples;
    private long _produced;
    private long _dropped;
    private int _started;

    /// <summary>Creates the pipeline for <paramref name="source"/>; <see cref="RunAsync"/> starts it.</summary>
    /// <param name="source">The audio input.</param>
    /// <param name="options">Chunking, pacing and queue settings.</param>
    /// <param name="logger">The pipeline's logger.</param>
    /// <param name="time">The clock for pacing.</param>
    /// <param name="voiceGate">The voice gate's settings, or null to send every chunk.</param>
    /// <param name="hold">The audio hold (privacy mute), or null for none.</param>
    public AudioPipeline(IAudioSource source, AudioOptions options, ILogger<AudioPipeline> logger, TimeProvider time, VoiceGateSettings? voiceGate = null,
        AudioHoldSettings? hold = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        _source = source;
        _options = options;
        _logger = logger;
        _time = time;
        RealTime = source.IsLive || (source.CanOutrunRealTime && !options.NoPacing);
        _output = Channel.CreateBounded<AudioChunk>(
            new BoundedChannelOptions(options.QueueCapacity)
            {
                FullMode = RealTime ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
                SingleWriter = true,
            },
            _ => Interlocked.Increment(ref _dropped));
        _levels = new AudioLevelMeter(options.ChunkMilliseconds);
        _gate = voiceGate is null ? null : new VoiceGate(voiceGate);
        _hold = hold;
        _closingSilenceSamples = hold is null ? 0 : (long)Math.Round(Math.Max(0, hold.ClosingSilence.TotalSeconds) * AudioChunk.SampleRate);
    }

    /// <summary>
    /// True when chunks come at the pace of real time (a device, a command, or a file played in real time): then a
    /// consumer that falls behind loses its oldest audio (counted) instead of holding up everyone else, as on a live
    /// stream. False for input read as fast as it is consumed (<c>--no-pacing</c>, stdin): then nothing is dropped and
    /// the input waits for the slowest reader.
    /// </summary>
    public bool RealTime { get; }

    /// <summary>The chunks, completed when the source ends (with the source's exception when it fails).</summary>
    public ChannelReader<AudioChunk> Output => _output.Reader;

    /// <summary>Counters.</summary>
    public AudioPipelineStats Stats
    {
        get
        {
            lock (_statsGate)
            {
                var samples = _produced * AudioChunk.SampleRate * _options.ChunkMilliseconds / 1000;
                return new AudioPipelineStats(
                    _produced,
                    Interlocked.Read(ref _dropped),
                    TimeSpan.FromTicks(samples * TimeSpan.TicksPerSecond / AudioChunk.SampleRate),
                    _levels.PeakDbfs,
                    _levels.RmsDbfs,
                    _levels.Speech,
                    _gate?.IsOpen,
                    _gate is null ? TimeSpan.Zero : TimeSpan.FromTicks(_gate.HeldBackSamples * TimeSpan.TicksPerSecond / AudioChunk.SampleRate),
                    _hold is null ? null : _held,
                    TimeSpan.FromTicks(_mutedSamples * TimeSpan.TicksPerSecond / AudioChunk.SampleRate));
            }
        }
    }

    /// <summary>Reads the source until it ends (then completes <see cref="Output"/>) or cancellation.</summary>
    /// <exception cref="AudioFormatException">The source holds damaged data (<see cref="Output"/> completes with it).</exception>
    /// <exception cref="IOException">The source failed (<see cref="Output"/> completes with it).</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The audio pipeline runs only once.");
        }

        var format = _source.Format;
        var pace = _source.CanOutrunRealTime && !_options.NoPacing;
        var chunker = new AudioChunker(_options.ChunkMilliseconds);
        var resampler = new Resampler(format.SampleRate);
        var readFrames = Math.Max(64, format.SampleRate / 100); // 10 ms a read
        var interleaved = new float[readFrames * format.Channels];
        var mono = new float[readFrames];
        var ready = new List<AudioChunk>();
        var writer = new ChunkWriter(this, pace, _time.GetTimestamp(), cancellationToken);
        LogStarted(_source.Description, resampler.Taps, pace);

        try
        {
            while (true)
            {
                var read = await _source.ReadAsync(interleaved, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                var frames = Downmix.ToMono(interleaved.AsSpan(0, read), format.Channels, mono);
                chunker.Append(resampler.Process(mono.AsSpan(0, frames)), ready);
                await writer.WriteAsync(ready);
            }

            chunker.Append(resampler.Flush(), ready);
            if (chunker.Flush() is { } last)
            {
                ready.Add(last);
            }

            await writer.WriteAsync(ready);
            _output.Writer.TryComplete();
            var stats = Stats;
            LogEnded(_source.Description, stats.AudioDuration, stats.ChunksDropped);
            if (_gate is not null)
            {
                LogHeldBack(stats.HeldBack, stats.AudioDuration);
            }

            if (_hold is not null)
            {
                LogMutedTotal(stats.MutedDuration, stats.AudioDuration);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _output.Writer.TryComplete();
            throw;
        }
        catch (Exception ex)
        {
            _output.Writer.TryComplete(ex);
            throw;
        }
    }

    /// <summary>Counts and measures <paramref name="chunk"/> and adds what the sessions should hear now to <paramref name="forward"/>.</summary>
    private void Record(AudioChunk chunk, List<AudioChunk> forward)
    {
        lock (_statsGate)
        {
            _levels.Add(chunk.Pcm16.Span);
            _produced++;
            if (_hold is not null && !ApplyHold(ref chunk))
            {
                return;
            }

            if (_gate is null)
            {
                forward.Add(chunk);
            }
            else
            {
                _gate.Process(chunk, forward);
            }
        }
    }

    /// <summary>
    /// The audio hold for one chunk (under the stats lock): false when the chunk must go nowhere; true to pass it on,
    /// replaced by digital silence at the start of a hold.
    /// </summary>
    private bool ApplyHold(ref AudioChunk chunk)
    {
        var held = _hold!.Hold.IsHeld;
        if (held != _held)
        {
            _held = held;
            if (held)
            {
                _closingSilenceLeft = _closingSilenceSamples;
                LogPaused(_hold.Hold.Reason, _hold.ClosingSilence);
            }
            else
            {
                LogResumed();
            }
        }

        if (!held)
        {
            return true;
        }

        _mutedSamples += chunk.SampleCount;
        if (_closingSilenceLeft <= 0)
        {
            return false;
        }

        _closingSilenceLeft -= chunk.SampleCount;
        chunk = chunk with { Pcm16 = new byte[chunk.Pcm16.Length] };
        return true;
    }

    /// <summary>Writes chunks to the output with pacing, the full policy and drop logging.</summary>
    private sealed class ChunkWriter(AudioPipeline pipeline, bool pace, long startTimestamp, CancellationToken cancellationToken)
    {
        private readonly TimeSpan _chunkDuration = TimeSpan.FromMilliseconds(pipeline._options.ChunkMilliseconds);
        private readonly List<AudioChunk> _forward = [];
        private long _droppedLogged;
        private long _lastDropLog = long.MinValue;

        public async ValueTask WriteAsync(List<AudioChunk> chunks)
        {
            foreach (var chunk in chunks)
            {
                if (pace)
                {
                    // Audio sent must not run ahead of the wall clock: chunk n may go once (n + 1) chunks of time passed.
                    var due = _chunkDuration * (chunk.Sequence + 1);
                    var elapsed = pipeline._time.GetElapsedTime(startTimestamp);
                    if (due > elapsed)
                    {
                        await Task.Delay(due - elapsed, pipeline._time, cancellationToken);
                    }
                }

                pipeline.Record(chunk, _forward);
                foreach (var forwarded in _forward)
                {
                    if (!pipeline._output.Writer.TryWrite(forwarded))
                    {
                        await pipeline._output.Writer.WriteAsync(forwarded, cancellationToken);
                    }
                }

                _forward.Clear();
                LogDropsNow();
            }

            chunks.Clear();
        }

        private void LogDropsNow()
        {
            var dropped = Interlocked.Read(ref pipeline._dropped);
            if (dropped == _droppedLogged)
            {
                return;
            }

            var now = pipeline._time.GetTimestamp();
            if (_lastDropLog != long.MinValue && pipeline._time.GetElapsedTime(_lastDropLog, now) < DropLogInterval)
            {
                return;
            }

            pipeline.LogDropped(dropped - _droppedLogged, dropped, pipeline._options.QueueCapacity);
            _droppedLogged = dropped;
            _lastDropLog = now;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audio pipeline reading {Source}; resampler taps {Taps}, paced {Paced}")]
    private partial void LogStarted(string source, int taps, bool paced);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audio input {Source} ended after {Duration}; {Dropped} chunks dropped in all")]
    private partial void LogEnded(string source, TimeSpan duration, long dropped);

    [LoggerMessage(Level = LogLevel.Information, Message = "The voice gate held back {HeldBack} of {Duration} of audio from the sessions")]
    private partial void LogHeldBack(TimeSpan heldBack, TimeSpan duration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Captioning paused: {Reason}; no audio goes to the sessions (after {ClosingSilence} of silence that ends the turn in progress)")]
    private partial void LogPaused(string reason, TimeSpan closingSilence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Captioning was paused for {Muted} of {Duration} of audio (none of it reached the sessions)")]
    private partial void LogMutedTotal(TimeSpan muted, TimeSpan duration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Captioning resumed: audio goes to the sessions again")]
    private partial void LogResumed();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The audio queue was full ({Capacity} chunks): dropped the oldest {Count} chunks ({Total} in all); the network or a track is too slow")]
    private partial void LogDropped(long count, long total, int capacity);
}
