using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Costs;
using CaptionSidecar.Hosting;
using CaptionSidecar.Languages;
using CaptionSidecar.Realtime;
using CaptionSidecar.Speakers;
using CaptionSidecar.Tracks;
using CaptionSidecar.Translation;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Pipeline;

/// <summary>
/// Runs the caption pipeline: for each speaker, audio source -> resampler and chunker -> voice gate -> the tracks
/// that hear them; translations from text fed by the speakers' final lines; one caption track per speaker and
/// language, mixed per language (<see cref="CaptionMix"/>) into the dispatcher's outputs.
/// <para>
/// Which tracks run is decided in one place, <see cref="TrackPlan"/>, from the languages moderators turned on (the
/// <see cref="LanguageSwitchboard"/>, whose <see cref="ILanguageRunner"/> this is), the speakers they caption
/// (<see cref="ISpeakerControl"/>) and <c>Realtime:TranslateFrom</c>; every change recomputes the plan and starts
/// and stops the difference (<see cref="Reconcile"/>). Control never reaches into a track.
/// </para>
/// </summary>
internal sealed partial class CaptionPipelineService : BackgroundService, ILanguageRunner, ISpeakerControl
{
    /// <summary>How long a stopped language's outputs may take to close (clear OBS and overlay, close files).</summary>
    private static readonly TimeSpan CloseOutputsTimeout = TimeSpan.FromSeconds(10);

    /// <summary>An input still not open after this long is logged as waited for (a FIFO nobody writes to yet).</summary>
    internal static readonly TimeSpan InputWaitNotice = TimeSpan.FromSeconds(1);

    private readonly ILanguageTrackFactory _engine;
    private readonly ITextTranslationTrackFactory? _textEngine;
    private readonly EngineChoice _engineChoice;
    private readonly IAudioSourceFactory _audioSources;
    private readonly AudioOptions _audioOptions;
    private readonly VoiceGateChoice _voiceGate;
    private readonly CaptionOptions _captionOptions;
    private readonly SidecarOptions _sidecarOptions;
    private readonly TranslationSource _translateFrom;
    private readonly TranslationSource _requestedFrom;
    private readonly ICaptionPublisher _publisher;
    private readonly CaptionDispatcher _dispatcher;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ProcessOutcome _outcome;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<CaptionPipelineService> _logger;
    private readonly TimeProvider _time;
    private readonly AudioTimeline? _timeline;
    private readonly LanguageSwitchboard _switchboard;
    private readonly CostMeter _costs;
    private readonly SourceLineHub _lines = new();
    private readonly IReadOnlyList<SpeakerRun> _speakers;

    // Guarded by _gate: what runs and what is wanted.
    private readonly Lock _gate = new();
    private readonly Dictionary<TrackKey, RunningTrack> _tracks = [];
    private readonly List<string> _languagesOn = [];
    private readonly Dictionary<string, CaptionMix> _mixes = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<TrackKey> _failed = [];
    private CancellationToken? _stopping;
    private bool _inputEnded;

    public CaptionPipelineService(
        ILanguageTrackFactory engine,
        EngineChoice engineChoice,
        IAudioSourceFactory audioSources,
        IOptions<AudioOptions> audioOptions,
        VoiceGateChoice voiceGate,
        SpeakerRoster roster,
        Func<Speaker, AudioHoldChoice> holds,
        IOptions<CaptionOptions> captionOptions,
        IOptions<SidecarOptions> sidecarOptions,
        IOptions<RealtimeOptions> realtimeOptions,
        LanguageSwitchboard switchboard,
        CostMeter costs,
        ICaptionPublisher publisher,
        CaptionDispatcher dispatcher,
        IHostApplicationLifetime lifetime,
        ProcessOutcome outcome,
        ILoggerFactory loggers,
        TimeProvider time,
        ITextTranslationTrackFactory? textEngine = null,
        AudioTimeline? timeline = null)
    {
        ArgumentNullException.ThrowIfNull(roster);
        ArgumentNullException.ThrowIfNull(holds);
        _engine = engine;
        _textEngine = textEngine;
        _engineChoice = engineChoice;
        _audioSources = audioSources;
        _audioOptions = audioOptions.Value;
        _voiceGate = voiceGate;
        _captionOptions = captionOptions.Value;
        _switchboard = switchboard;
        _costs = costs;
        _sidecarOptions = sidecarOptions.Value;
        _requestedFrom = realtimeOptions.Value.TranslateFrom;
        _translateFrom = realtimeOptions.Value.TranslateFrom == TranslationSource.Text && textEngine is null && engine.UsesAudio
            ? TranslationSource.Audio
            : realtimeOptions.Value.TranslateFrom;
        _publisher = publisher;
        _dispatcher = dispatcher;
        _lifetime = lifetime;
        _outcome = outcome;
        _loggers = loggers;
        _logger = loggers.CreateLogger<CaptionPipelineService>();
        _time = time;
        _timeline = timeline;
        _speakers = [.. roster.Speakers.Select(s => new SpeakerRun(s, holds(s)))];
    }

    /// <summary>What translations work from (audio when the engine has no text translation).</summary>
    public TranslationSource TranslateFrom => _translateFrom;

    /// <summary>The running tracks' status snapshots with how long each has run, for the cost meter.</summary>
    public IReadOnlyList<TrackUptime> TrackUptimes
    {
        get
        {
            var now = _time.GetUtcNow();
            return [.. Running().Select(t => new TrackUptime(t.Status(), now - t.StartedAt))];
        }
    }

    /// <summary>The first speaker's audio statistics, or null when the engine takes no audio.</summary>
    public AudioPipelineStats? AudioStats => _speakers[0].Audio?.Stats;

    /// <summary>What the first speaker's audio input is doing; null when the engine takes no audio.</summary>
    public AudioInputState? Input => _speakers[0].CurrentInput;

    /// <summary>Audio chunks dropped for slow tracks, over every speaker.</summary>
    public long DroppedAudioChunks => _speakers.Sum(s => s.Audio?.Stats.ChunksDropped ?? 0);

    /// <inheritdoc/>
    public IReadOnlyList<SpeakerStatus> Speakers => [.. _speakers.Select(s => s.Status())];

    /// <inheritdoc/>
    public async Task<SpeakerChange> SetCaptionedAsync(string name, bool captioned, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var run = _speakers.FirstOrDefault(s => string.Equals(s.Speaker.Key, name, StringComparison.OrdinalIgnoreCase));
        if (run is null)
        {
            return SpeakerChange.Unknown;
        }

        List<Task> stopping;
        lock (_gate)
        {
            if (run.Captioned == captioned)
            {
                return SpeakerChange.Applied;
            }

            run.Captioned = captioned;
            if (captioned)
            {
                _failed.RemoveWhere(k => k.Speaker == run.Speaker.Key);
            }

            stopping = Reconcile();
        }

        LogSpeakerCaptioned(run.Speaker.Key, captioned ? "captioned" : "muted");
        await Task.WhenAll(stopping).WaitAsync(cancellationToken);
        return SpeakerChange.Applied;
    }

    /// <summary>Clears the captions of every running language on every output (transcripts are not touched).</summary>
    public void ClearCaptions()
    {
        foreach (var outlet in Running().SelectMany(t => t.Outlets()))
        {
            outlet.Captions.Clear();
        }
    }

    /// <summary>Shows a labelled test line in every running language (on one caption track of each).</summary>
    public void ShowTestLine()
    {
        List<string> on;
        lock (_gate)
        {
            on = [.. _languagesOn];
        }

        var outlets = Running().SelectMany(t => t.Outlets()).ToList();
        foreach (var language in on)
        {
            outlets.FirstOrDefault(o => TrackPlan.Same(o.Language, language))?.Captions
                .ShowTestLine($"[TEST] Caption test in '{language}': this is how captions look on this output.");
        }
    }

    /// <inheritdoc/>
    public bool TryStart(CaptionLanguage language)
    {
        ArgumentNullException.ThrowIfNull(language);
        lock (_gate)
        {
            if (_inputEnded || _stopping is not { IsCancellationRequested: false })
            {
                return false;
            }

            if (!_languagesOn.Exists(l => TrackPlan.Same(l, language.Code)))
            {
                _languagesOn.Add(language.Code);
            }

            Mix(language.Code).Enabled = true;
            _failed.RemoveWhere(k => TrackPlan.Same(k.Language, language.Code));
            _ = Reconcile();
            return true;
        }
    }

    /// <inheritdoc/>
    public async Task StopAsync(string code, CancellationToken cancellationToken)
    {
        List<Task> stopping;
        lock (_gate)
        {
            if (_languagesOn.RemoveAll(l => TrackPlan.Same(l, code)) == 0)
            {
                return;
            }

            if (_mixes.TryGetValue(code, out var mix))
            {
                mix.Enabled = false;
            }

            stopping = Reconcile();
        }

        await Task.WhenAll(stopping).WaitAsync(cancellationToken);
        await CloseOutputsAsync(code);
    }

    /// <inheritdoc/>
    public bool IsRunning(string code)
    {
        lock (_gate)
        {
            return _languagesOn.Exists(l => TrackPlan.Same(l, code)) && _tracks.Values.Any(t => t.Produces(code));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_engineChoice.Reason is { } reason)
        {
            LogEngineFallback(reason);
        }

        if (_engine.UsesAudio && _textEngine is null && _translateFrom == TranslationSource.Audio && _requestedFrom == TranslationSource.Text)
        {
            LogNoTextTranslation();
        }

        foreach (var run in _speakers)
        {
            if (run.Hold.Reason is { } holdReason)
            {
                LogAudioHold(run.Speaker.Key, holdReason);
            }
        }

        LogStarting(_engine.EngineName, _engine.UsesAudio ? string.Join("; ", _speakers.Select(s => s.Speaker.ToString())) : "none (the test pattern needs no audio)",
            _engine.UsesAudio ? _translateFrom.ToString().ToLowerInvariant() : "none");
        lock (_gate)
        {
            _stopping = stoppingToken;
        }

        if (_engine.UsesAudio)
        {
            // Every input opens before any audio flows, so the speakers' timelines start together.
            var opened = await Task.WhenAll(_speakers.Select(s => OpenInputAsync(s, stoppingToken)));
            if (opened.Any(o => !o))
            {
                foreach (var run in _speakers)
                {
                    if (run.Source is { } source)
                    {
                        await source.DisposeAsync();
                    }
                }

                return; // Stopped while waiting for an input, or one could not be opened (logged, exit code set).
            }

            LogVoiceGate(_voiceGate.Reason);
            foreach (var run in _speakers)
            {
                run.Audio = new AudioPipeline(run.Source!, _audioOptions.WithInput(run.Speaker.Input), _loggers.CreateLogger<AudioPipeline>(), _time, _voiceGate.Settings, run.Hold.Settings);
                run.FanOut = new AudioFanOut(run.Audio.Output, run.Audio.RealTime, _audioOptions.QueueCapacity, _timeline);
            }
        }

        // The tracks subscribe before audio flows: a file is never read ahead of the track that must hear it.
        _switchboard.Attach(this);
        if (_engine.UsesAudio)
        {
            // Runs until every input ended (file, stdin) or the sidecar stops; tracks come and go meanwhile.
            await Task.WhenAll(_speakers.Select(s => RunSpeakerAsync(s, stoppingToken)));
        }
        else
        {
            foreach (var run in _speakers)
            {
                run.Unused = true;
            }

            await WaitUntilStoppedAsync(stoppingToken);
        }

        // Every input ended: the tracks that hear audio finish their pending turns (their queues are complete), then
        // the text translations finish the lines those gave them.
        List<RunningTrack> hearing;
        lock (_gate)
        {
            _inputEnded = true;
            hearing = [.. _tracks.Values.Where(t => t.Key.Role != TrackRole.TextTranslate)];
        }

        await Task.WhenAll(hearing.Select(t => t.Completion));
        _lines.Complete();
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
    /// Compares the plan with what runs: stops what is no longer wanted (returns their completions) and starts what is
    /// missing and may start (not after the input ended, not a track that failed for good until its language or
    /// speaker is turned on again). The caller holds <c>_gate</c>.
    /// </summary>
    private List<Task> Reconcile()
    {
        var desired = TrackPlan.Desired(
            [.. _speakers.Select(s => s.Speaker)],
            key => _speakers.First(s => s.Speaker.Key == key).Captioned,
            _languagesOn,
            _translateFrom,
            _engine.UsesAudio);
        var stopping = new List<Task>();
        foreach (var (key, running) in _tracks)
        {
            if (!desired.Contains(key))
            {
                // The stop source is never disposed (see RunningTrack), so this cannot race the track's own end.
                running.Stop.Cancel();
                stopping.Add(running.Completion);
            }
        }

        if (_inputEnded || _stopping is not { IsCancellationRequested: false } stoppingToken)
        {
            return stopping;
        }

        foreach (var key in desired)
        {
            if (_tracks.ContainsKey(key) || _failed.Contains(key))
            {
                continue;
            }

            var run = key.Speaker is null ? null : _speakers.First(s => s.Speaker.Key == key.Speaker);
            if (run is not null && key.Role != TrackRole.Pattern && (run.InputEnded || run.FanOut is not { IsCompleted: false }))
            {
                continue;
            }

            StartTrack(key, run, stoppingToken);
        }

        return stopping;
    }

    /// <summary>Starts a track; the caller holds <c>_gate</c>, so two starts of one key cannot race.</summary>
    private void StartTrack(TrackKey key, SpeakerRun? run, CancellationToken stoppingToken)
    {
        var running = new RunningTrack(key, stoppingToken, _time.GetUtcNow());
        _tracks[key] = running;
        switch (key.Role)
        {
            case TrackRole.TextTranslate:
            {
                // Lines from speech faster than real time (a file with --no-pacing) are never too late to show.
                var realTime = _speakers.Any(s => s.Audio?.RealTime ?? true);
                var track = _textEngine!.Create(new CaptionLanguage(key.Language, IsSource: false), realTime);
                running.Status = () => track.Status;
                var lines = _lines.Subscribe(key.Language);
                running.Completion = RunTextTrackAsync(running, track, lines);
                break;
            }

            default:
            {
                var speaker = run!.Speaker;
                var source = key.Role == TrackRole.Transcribe;
                var language = new CaptionLanguage(key.Language, source);
                var track = _engine.Create(language, speaker);
                running.Status = () => track.Status with { Speaker = speaker.Key };
                var mix = Mix(key.Language);
                var publisher = source ? _lines.Tee(mix.PublisherFor(speaker.Key), speaker, _time) : mix.PublisherFor(speaker.Key);
                var captions = running.AddOutlet(speaker.Key, key.Language, new CaptionTrack(language, _captionOptions, publisher, _time, speaker.Label));
                var input = mix.Watch(speaker.Key, captions);
                var audio = key.Role == TrackRole.Pattern || run.FanOut is null
                    ? Channel.CreateUnbounded<AudioChunk>().Reader
                    : run.FanOut.Subscribe(key.ToString());
                running.Completion = RunTrackAsync(running, track, audio, input, run.FanOut);
                break;
            }
        }
    }

    private CaptionMix Mix(string language)
    {
        if (!_mixes.TryGetValue(language, out var mix))
        {
            mix = new CaptionMix(language, _captionOptions, _publisher, _time);
            _mixes[language] = mix;
        }

        return mix;
    }

    private Task RunTrackAsync(RunningTrack running, ILanguageTrack track, ChannelReader<AudioChunk> audio, ICaptionInput captions, AudioFanOut? fanOut) =>
        SuperviseAsync(
            running,
            () => track.RunAsync(audio, captions, running.Stop.Token),
            // Its audio queue closes, so a file input never waits on a track that is gone.
            () => fanOut?.Unsubscribe(running.Key.ToString()));

    private Task RunTextTrackAsync(RunningTrack running, ITextTranslationTrack track, ChannelReader<SourceLine> lines) =>
        SuperviseAsync(
            running,
            () => track.RunAsync(lines, speakerKey => OutletOf(running, speakerKey), running.Stop.Token),
            () => _lines.Unsubscribe(running.Key.Language));

    /// <summary>
    /// Runs a track to its end: a stop is quiet, a rejected key or any other failure is logged and fails the run;
    /// then <paramref name="release"/> gives back its input queue and the track's end is handled (<see cref="Ended"/>).
    /// </summary>
    private async Task SuperviseAsync(RunningTrack running, Func<Task> run, Action release)
    {
        await Task.Yield();
        try
        {
            await run();
            LogTrackEnded(running.Key.ToString());
        }
        catch (OperationCanceledException) when (running.Stop.IsCancellationRequested)
        {
        }
        catch (RealtimeAuthenticationException ex)
        {
            LogKeyRejected(ex, running.Key.ToString(), ex.Message);
            Failed(running.Key);
        }
        catch (Exception ex)
        {
            LogTrackFailed(ex, running.Key.ToString());
            Failed(running.Key);
        }
        finally
        {
            release();
            Ended(running);
        }
    }

    /// <summary>The caption track of one speaker in a text translation's language, made on the first line of that speaker.</summary>
    private ICaptionInput OutletOf(RunningTrack running, string speakerKey)
    {
        if (running.Find(speakerKey) is { } known)
        {
            return known.Input;
        }

        var speaker = _speakers.FirstOrDefault(s => s.Speaker.Key == speakerKey)?.Speaker
            ?? throw new InvalidOperationException($"A line came from an unknown speaker '{speakerKey}'.");
        CaptionMix mix;
        lock (_gate)
        {
            mix = Mix(running.Key.Language);
        }

        var language = new CaptionLanguage(running.Key.Language, IsSource: false);
        var captions = new CaptionTrack(language, _captionOptions, mix.PublisherFor(speakerKey), _time, speaker.Label);
        var input = mix.Watch(speakerKey, captions);
        running.AddOutlet(speakerKey, running.Key.Language, captions, input);
        return input;
    }

    /// <summary>A track ended (stopped, input ended, or failed): its captions leave the screen, and the plan is looked at again.</summary>
    private void Ended(RunningTrack running)
    {
        _costs.TrackEnded(running.Status(), _time.GetUtcNow() - running.StartedAt);
        foreach (var outlet in running.Outlets())
        {
            outlet.Captions.Dispose();
            CaptionMix? mix;
            lock (_gate)
            {
                _mixes.TryGetValue(outlet.Language, out mix);
            }

            mix?.Remove(outlet.Speaker);
        }

        running.Unlink();
        lock (_gate)
        {
            _tracks.Remove(running.Key);

            // Wanted again while it was stopping (a quick off and on): it starts anew.
            _ = Reconcile();
        }
    }

    private async Task CloseOutputsAsync(string code)
    {
        try
        {
            // An output that hangs (OBS not answering) must not hold up turning the language on again.
            await _dispatcher.CloseLanguageAsync(code, CancellationToken.None).WaitAsync(CloseOutputsTimeout, _time);
        }
        catch (Exception ex)
        {
            LogCloseFailed(ex, code);
        }
    }

    /// <summary>A track failed for good (a rejected key, a refused configuration): the run counts as failed.</summary>
    private void Failed(TrackKey key)
    {
        lock (_gate)
        {
            _failed.Add(key);
        }

        _outcome.Fail(1);
        if (_sidecarOptions.ExitAtEnd)
        {
            // A scripted run (file or stdin to transcripts) cannot succeed any more: end it now, non-zero.
            _lifetime.StopApplication();
        }
    }

    private List<RunningTrack> Running()
    {
        lock (_gate)
        {
            return [.. _tracks.Values];
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

    private void Fatal(Exception ex, string what)
    {
        LogAudioFatal(ex, what, ex.Message);
        _outcome.Fail(1);
        _lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Reason}")]
    private partial void LogEngineFallback(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Text translation is not available with this engine; translations hear the audio (--translate-from audio)")]
    private partial void LogNoTextTranslation();

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting the {Engine} engine; audio input: {Input}; translations from {From}")]
    private partial void LogStarting(string engine, string input, string from);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Reason}")]
    private partial void LogVoiceGate(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Speaker {Speaker}: {Reason}")]
    private partial void LogAudioHold(string speaker, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Speaker {Speaker} is now {State} by a moderator")]
    private partial void LogSpeakerCaptioned(string speaker, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "The input ended and every caption language is finished")]
    private partial void LogInputEnded();

    [LoggerMessage(Level = LogLevel.Information, Message = "Caption track {Track} finished")]
    private partial void LogTrackEnded(string track);

    [LoggerMessage(Level = LogLevel.Error, Message = "Caption track {Track} stopped: {Reason}")]
    private partial void LogKeyRejected(Exception ex, string track, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Caption track {Track} failed and stopped")]
    private partial void LogTrackFailed(Exception ex, string track);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the outputs of {Language} failed")]
    private partial void LogCloseFailed(Exception ex, string language);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{What}: {Reason}")]
    private partial void LogAudioFatal(Exception ex, string what, string reason);
}
