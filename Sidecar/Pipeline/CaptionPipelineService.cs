using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Costs;
using CaptionSidecar.Hosting;
using CaptionSidecar.Languages;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Pipeline;

/// <summary>
/// Runs the caption pipeline: audio source -> resampler and chunker -> one track per caption language -> caption
/// tracks -> the dispatcher's outputs. It owns the running tracks; which languages run is the
/// <see cref="LanguageSwitchboard"/>'s decision, which it carries out as the switchboard's <see cref="ILanguageRunner"/>.
/// </summary>
internal sealed partial class CaptionPipelineService : BackgroundService, ILanguageRunner
{
    /// <summary>How long a stopped language's outputs may take to close (clear OBS and overlay, close files).</summary>
    private static readonly TimeSpan CloseOutputsTimeout = TimeSpan.FromSeconds(10);

    /// <summary>An input still not open after this long is logged as waited for (a FIFO nobody writes to yet).</summary>
    internal static readonly TimeSpan InputWaitNotice = TimeSpan.FromSeconds(1);

    private readonly ILanguageTrackFactory _engine;
    private readonly EngineChoice _engineChoice;
    private readonly IAudioSourceFactory _audioSources;
    private readonly AudioOptions _audioOptions;
    private readonly VoiceGateChoice _voiceGate;
    private readonly AudioHoldChoice _hold;
    private readonly CaptionOptions _captionOptions;
    private readonly SidecarOptions _sidecarOptions;
    private readonly ICaptionPublisher _publisher;
    private readonly CaptionDispatcher _dispatcher;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ProcessOutcome _outcome;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<CaptionPipelineService> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<RunningTrack> _tracks = [];
    private readonly LanguageSwitchboard _switchboard;
    private readonly CostMeter _costs;
    private AudioPipeline? _audio;
    private AudioFanOut? _fanOut;
    private CancellationToken? _stopping;
    private bool _inputEnded;
    private volatile AudioInputState? _input;

    public CaptionPipelineService(
        ILanguageTrackFactory engine,
        EngineChoice engineChoice,
        IAudioSourceFactory audioSources,
        IOptions<AudioOptions> audioOptions,
        VoiceGateChoice voiceGate,
        AudioHoldChoice hold,
        IOptions<CaptionOptions> captionOptions,
        IOptions<SidecarOptions> sidecarOptions,
        LanguageSwitchboard switchboard,
        CostMeter costs,
        ICaptionPublisher publisher,
        CaptionDispatcher dispatcher,
        IHostApplicationLifetime lifetime,
        ProcessOutcome outcome,
        ILoggerFactory loggers,
        TimeProvider time)
    {
        _engine = engine;
        _engineChoice = engineChoice;
        _audioSources = audioSources;
        _audioOptions = audioOptions.Value;
        _voiceGate = voiceGate;
        _hold = hold;
        _captionOptions = captionOptions.Value;
        _switchboard = switchboard;
        _costs = costs;
        _sidecarOptions = sidecarOptions.Value;
        _publisher = publisher;
        _dispatcher = dispatcher;
        _lifetime = lifetime;
        _outcome = outcome;
        _loggers = loggers;
        _logger = loggers.CreateLogger<CaptionPipelineService>();
        _time = time;
    }

    /// <summary>The running tracks' status snapshots with how long each has run, for the cost meter.</summary>
    public IReadOnlyList<TrackUptime> TrackUptimes
    {
        get
        {
            var now = _time.GetUtcNow();
            lock (_gate)
            {
                return [.. _tracks.Select(t => new TrackUptime(t.Track.Status, now - t.StartedAt))];
            }
        }
    }

    /// <summary>Audio statistics, or null when the engine takes no audio.</summary>
    public AudioPipelineStats? AudioStats => _audio?.Stats;

    /// <summary>What the audio input is doing (opening, waiting for audio, receiving, ended, failed); null when the engine takes no audio.</summary>
    public AudioInputState? Input
    {
        get
        {
            var input = _input;
            if (input is { Phase: AudioInputPhase.WaitingForAudio } && _audio?.Stats.ChunksProduced > 0)
            {
                return input with { Phase = AudioInputPhase.Receiving, Detail = null };
            }

            return input;
        }
    }

    /// <summary>Clears the captions of every running language on every output (transcripts are not touched).</summary>
    public void ClearCaptions()
    {
        foreach (var track in Running())
        {
            track.Captions.Clear();
        }
    }

    /// <summary>Shows a labelled test line in every running language.</summary>
    public void ShowTestLine()
    {
        foreach (var track in Running())
        {
            track.Captions.ShowTestLine($"[TEST] Caption test in '{track.Track.Language.Code}': this is how captions look on this output.");
        }
    }

    /// <inheritdoc/>
    public bool TryStart(CaptionLanguage language)
    {
        ArgumentNullException.ThrowIfNull(language);
        lock (_gate)
        {
            if (_inputEnded || _stopping is not { IsCancellationRequested: false } stopping)
            {
                return false;
            }

            if (_tracks.Exists(t => t.Track.Language.Code == language.Code))
            {
                return true;
            }

            StartTrack(language, _fanOut, stopping);
            return true;
        }
    }

    /// <inheritdoc/>
    public async Task StopAsync(string code, CancellationToken cancellationToken)
    {
        RunningTrack? running;
        lock (_gate)
        {
            running = _tracks.Find(t => t.Track.Language.Code == code);
        }

        if (running is null)
        {
            return;
        }

        // The stop source is never disposed (see RunningTrack), so this cannot race the track's own end.
        await running.Stop.CancelAsync();
        await running.Completion.WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public bool IsRunning(string code)
    {
        lock (_gate)
        {
            return _tracks.Exists(t => t.Track.Language.Code == code);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_engineChoice.Reason is { } reason)
        {
            LogEngineFallback(reason);
        }

        if (_hold.Reason is { } holdReason)
        {
            LogAudioHold(holdReason);
        }

        LogStarting(_engine.EngineName, _engine.UsesAudio ? _audioOptions.Input : "none (the test pattern needs no audio)");
        _stopping = stoppingToken;

        IAudioSource? source = null;
        if (_engine.UsesAudio)
        {
            source = await OpenInputAsync(stoppingToken);
            if (source is null)
            {
                return; // Stopped while waiting for the input, or it could not be opened (logged, exit code set).
            }

            LogVoiceGate(_voiceGate.Reason);
            _audio = new AudioPipeline(source, _audioOptions, _loggers.CreateLogger<AudioPipeline>(), _time, _voiceGate.Settings, _hold.Settings);
            _fanOut = new AudioFanOut(_audio.Output, _audio.RealTime, _audioOptions.QueueCapacity);
        }

        // The tracks subscribe before audio flows: a file is never read ahead of the track that must hear it.
        _switchboard.Attach(this);
        if (_audio is not null && _fanOut is not null && source is not null)
        {
            // Runs until the input ends (file, stdin) or the sidecar stops; tracks come and go meanwhile.
            await RunAudioAsync(_audio, _fanOut, source, stoppingToken);
        }
        else
        {
            await WaitUntilStoppedAsync(stoppingToken);
        }

        // The input ended: every track finishes its pending turns (their queues are complete), then we are done.
        lock (_gate)
        {
            _inputEnded = true;
        }

        await Task.WhenAll(Running().Select(t => t.Completion));
        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        LogInputEnded();
        if (_sidecarOptions.ExitAtEnd)
        {
            _lifetime.StopApplication();
        }
    }

    /// <summary>
    /// Opens the audio input, saying in status and the log while it is waited for. Null when the sidecar stops first
    /// or the input cannot be opened: that is a configuration error (exit code 2), reported in one line.
    /// </summary>
    private async Task<IAudioSource?> OpenInputAsync(CancellationToken stoppingToken)
    {
        var input = _audioOptions.Input ?? string.Empty;
        _input = new AudioInputState(input, AudioInputPhase.Opening, _time.GetUtcNow(), "waiting for the input to open");
        var opening = _audioSources.OpenAsync(_audioOptions, stoppingToken);
        try
        {
            IAudioSource source;
            try
            {
                source = await opening.WaitAsync(InputWaitNotice, _time, stoppingToken);
            }
            catch (TimeoutException)
            {
                var fifo = input.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
                var why = fifo
                    ? "nothing has arrived from it yet: a FIFO opens only once something writes to it"
                    : "it has not opened yet";
                _input = _input with { Detail = why };
                LogWaitingForInput(input, why);
                source = await opening;
            }

            _input = new AudioInputState(input, AudioInputPhase.WaitingForAudio, _time.GetUtcNow(), "open; no audio has arrived yet");
            return source;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogStoppedWaitingForInput(input);
            return null;
        }
        catch (Exception ex) when (ex is NotSupportedException or FormatException or IOException or AudioFormatException or UnauthorizedAccessException)
        {
            // An expected condition (a bad file, a folder, a missing device): the message says what to do; no stack trace.
            _input = new AudioInputState(input, AudioInputPhase.Failed, _time.GetUtcNow(), ex.Message);
            LogInputCannotOpen(ex.Message);
            _outcome.Fail(SidecarCommandLine.ExitInvalidConfiguration);
            _lifetime.StopApplication();
            return null;
        }
    }

    private static async Task WaitUntilStoppedAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private List<RunningTrack> Running()
    {
        lock (_gate)
        {
            return [.. _tracks];
        }
    }

    /// <summary>Starts a track; the caller holds <c>_gate</c>, so two starts of one language cannot race.</summary>
    private void StartTrack(CaptionLanguage language, AudioFanOut? fanOut, CancellationToken stoppingToken)
    {
        var captions = new CaptionTrack(language, _captionOptions, _publisher, _time);
        var track = _engine.Create(language);
        var audio = fanOut?.Subscribe(language.Code) ?? Channel.CreateUnbounded<AudioChunk>().Reader;
        var running = new RunningTrack(track, captions, stoppingToken, _time.GetUtcNow());
        _tracks.Add(running);
        running.Completion = RunTrackAsync(running, audio, fanOut);
    }

    private async Task RunTrackAsync(RunningTrack running, ChannelReader<AudioChunk> audio, AudioFanOut? fanOut)
    {
        var language = running.Track.Language;
        await Task.Yield();
        try
        {
            await running.Track.RunAsync(audio, running.Captions, running.Stop.Token);
            LogTrackEnded(language.Code);
        }
        catch (OperationCanceledException) when (running.Stop.IsCancellationRequested)
        {
        }
        catch (RealtimeAuthenticationException ex)
        {
            LogKeyRejected(ex, language.Code, ex.Message);
            Failed();
        }
        catch (Exception ex)
        {
            LogTrackFailed(ex, language.Code);
            Failed();
        }
        finally
        {
            // Its audio queue closes, so a file input never waits on a track that is gone.
            fanOut?.Unsubscribe(language.Code);
            lock (_gate)
            {
                _tracks.Remove(running);
            }

            _costs.TrackEnded(running.Track.Status, _time.GetUtcNow() - running.StartedAt);
            running.Captions.Dispose();
            running.Unlink();
            try
            {
                // An output that hangs (OBS not answering) must not hold up turning the language on again.
                await _dispatcher.CloseLanguageAsync(language.Code, CancellationToken.None).WaitAsync(CloseOutputsTimeout, _time);
            }
            catch (Exception ex)
            {
                LogCloseFailed(ex, language.Code);
            }
        }
    }

    /// <summary>A track failed for good (a rejected key, a refused configuration): the run counts as failed.</summary>
    private void Failed()
    {
        _outcome.Fail(1);
        if (_sidecarOptions.ExitAtEnd)
        {
            // A scripted run (file or stdin to transcripts) cannot succeed any more: end it now, non-zero.
            _lifetime.StopApplication();
        }
    }

    private async Task RunAudioAsync(AudioPipeline pipeline, AudioFanOut fanOut, IAudioSource source, CancellationToken cancellationToken)
    {
        var fan = fanOut.RunAsync(cancellationToken);
        try
        {
            await pipeline.RunAsync(cancellationToken);
            _input = _input! with { Phase = AudioInputPhase.Ended, Since = _time.GetUtcNow(), Detail = null };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or AudioFormatException)
        {
            // Expected (a command that exited non-zero, a damaged file): the message says it all.
            _input = _input! with { Phase = AudioInputPhase.Failed, Since = _time.GetUtcNow(), Detail = ex.Message };
            LogInputFailed(ex.Message);
            _outcome.Fail(1);
            _lifetime.StopApplication();
        }
        catch (Exception ex)
        {
            _input = _input! with { Phase = AudioInputPhase.Failed, Since = _time.GetUtcNow(), Detail = ex.Message };
            Fatal(ex, "The audio input failed");
        }
        finally
        {
            await fan;
            await source.DisposeAsync();
        }
    }

    private void Fatal(Exception ex, string what)
    {
        LogAudioFatal(ex, what, ex.Message);
        _outcome.Fail(1);
        _lifetime.StopApplication();
    }

    /// <summary>
    /// A running language. Its stop source has no timer and no wait handle, so it holds nothing that needs disposing:
    /// it is never disposed, and a moderator's stop (<see cref="StopAsync"/>) may cancel it at any time, even while the
    /// track ends by itself. The host's stop reaches it through a registration that the track's end removes.
    /// </summary>
    private sealed class RunningTrack
    {
        private readonly CancellationTokenRegistration _hostStop;

        public RunningTrack(ILanguageTrack track, CaptionTrack captions, CancellationToken hostStopping, DateTimeOffset startedAt)
        {
            Track = track;
            Captions = captions;
            StartedAt = startedAt;
            _hostStop = hostStopping.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), Stop);
        }

        public DateTimeOffset StartedAt { get; }

        public ILanguageTrack Track { get; }

        public CaptionTrack Captions { get; }

        /// <summary>Stops this track alone (a moderator turned its language off), or with the host.</summary>
        public CancellationTokenSource Stop { get; } = new();

        public Task Completion { get; set; } = Task.CompletedTask;

        /// <summary>Removes the link to the host's stop (the track has ended).</summary>
        public void Unlink() => _hostStop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Reason}")]
    private partial void LogEngineFallback(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting the {Engine} engine; audio input: {Input}")]
    private partial void LogStarting(string engine, string input);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Reason}")]
    private partial void LogVoiceGate(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Reason}")]
    private partial void LogAudioHold(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The input ended and every caption language is finished")]
    private partial void LogInputEnded();

    [LoggerMessage(Level = LogLevel.Information, Message = "Caption track {Language} finished")]
    private partial void LogTrackEnded(string language);

    [LoggerMessage(Level = LogLevel.Error, Message = "Caption track {Language} stopped: {Reason}")]
    private partial void LogKeyRejected(Exception ex, string language, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Caption track {Language} failed and stopped")]
    private partial void LogTrackFailed(Exception ex, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the outputs of {Language} failed")]
    private partial void LogCloseFailed(Exception ex, string language);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{What}: {Reason}")]
    private partial void LogAudioFatal(Exception ex, string what, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Still waiting for the audio input {Input}: {Why}. Captioning starts once it delivers; Ctrl+C stops")]
    private partial void LogWaitingForInput(string input, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped while waiting for the audio input {Input}; it never opened")]
    private partial void LogStoppedWaitingForInput(string input);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The audio input cannot be opened: {Reason}")]
    private partial void LogInputCannotOpen(string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The audio input failed: {Reason}")]
    private partial void LogInputFailed(string reason);
}
