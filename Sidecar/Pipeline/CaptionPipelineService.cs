using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Hosting;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Pipeline;

/// <summary>
/// Runs the caption pipeline: audio source -> resampler and chunker -> one track per caption language -> caption
/// tracks -> the dispatcher's outputs. It owns the running tracks; control surfaces change which languages run
/// through it, never by reaching into a track.
/// </summary>
internal sealed partial class CaptionPipelineService : BackgroundService
{
    private readonly ILanguageTrackFactory _engine;
    private readonly EngineChoice _engineChoice;
    private readonly IAudioSourceFactory _audioSources;
    private readonly AudioOptions _audioOptions;
    private readonly CaptionOptions _captionOptions;
    private readonly RealtimeOptions _realtimeOptions;
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
    private AudioPipeline? _audio;

    public CaptionPipelineService(
        ILanguageTrackFactory engine,
        EngineChoice engineChoice,
        IAudioSourceFactory audioSources,
        IOptions<AudioOptions> audioOptions,
        IOptions<CaptionOptions> captionOptions,
        IOptions<RealtimeOptions> realtimeOptions,
        IOptions<SidecarOptions> sidecarOptions,
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
        _captionOptions = captionOptions.Value;
        _realtimeOptions = realtimeOptions.Value;
        _sidecarOptions = sidecarOptions.Value;
        _publisher = publisher;
        _dispatcher = dispatcher;
        _lifetime = lifetime;
        _outcome = outcome;
        _loggers = loggers;
        _logger = loggers.CreateLogger<CaptionPipelineService>();
        _time = time;
    }

    /// <summary>Status snapshots of the running tracks.</summary>
    public IReadOnlyList<TrackStatus> TrackStatuses
    {
        get
        {
            lock (_gate)
            {
                return [.. _tracks.Select(t => t.Track.Status)];
            }
        }
    }

    /// <summary>Audio statistics, or null when the engine takes no audio.</summary>
    public AudioPipelineStats? AudioStats => _audio?.Stats;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_engineChoice.Reason is { } reason)
        {
            LogEngineFallback(reason);
        }

        LogStarting(_engine.EngineName, _engine.UsesAudio ? _audioOptions.Input : "none (the test pattern needs no audio)");

        using var audioStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        AudioFanOut? fanOut = null;
        Task audioTask = Task.CompletedTask;
        IAudioSource? source = null;
        if (_engine.UsesAudio)
        {
            try
            {
                source = _audioSources.Create(_audioOptions);
            }
            catch (Exception ex) when (ex is NotSupportedException or FormatException or IOException or AudioFormatException)
            {
                Fatal(ex, "The audio input cannot be opened");
                return;
            }

            _audio = new AudioPipeline(source, _audioOptions, _loggers.CreateLogger<AudioPipeline>(), _time);
            fanOut = new AudioFanOut(_audio.Output, source.IsLive, _audioOptions.QueueCapacity);
        }

        // The tracks subscribe before audio flows: a file is never read ahead of the track that must hear it.
        StartTrack(new CaptionLanguage(_realtimeOptions.Language, IsSource: true), fanOut, stoppingToken);
        if (_audio is not null && fanOut is not null && source is not null)
        {
            audioTask = RunAudioAsync(_audio, fanOut, source, audioStop.Token);
        }

        Task[] trackTasks;
        lock (_gate)
        {
            trackTasks = [.. _tracks.Select(t => t.Completion)];
        }

        await Task.WhenAll(trackTasks);
        await audioStop.CancelAsync();
        await audioTask;

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

    private void StartTrack(CaptionLanguage language, AudioFanOut? fanOut, CancellationToken stoppingToken)
    {
        var captions = new CaptionTrack(language, _captionOptions, _publisher, _time);
        var track = _engine.Create(language);
        var audio = fanOut?.Subscribe(language.Code) ?? Channel.CreateUnbounded<AudioChunk>().Reader;
        var running = new RunningTrack(track, captions);
        running.Completion = RunTrackAsync(running, audio, stoppingToken);
        lock (_gate)
        {
            _tracks.Add(running);
        }
    }

    private async Task RunTrackAsync(RunningTrack running, ChannelReader<AudioChunk> audio, CancellationToken stoppingToken)
    {
        var language = running.Track.Language;
        await Task.Yield();
        try
        {
            await running.Track.RunAsync(audio, running.Captions, stoppingToken);
            LogTrackEnded(language.Code);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (RealtimeAuthenticationException ex)
        {
            LogKeyRejected(ex, language.Code, ex.Message);
            _outcome.Fail(1);
        }
        catch (Exception ex)
        {
            LogTrackFailed(ex, language.Code);
            _outcome.Fail(1);
        }
        finally
        {
            running.Captions.Dispose();
            try
            {
                await _dispatcher.CloseLanguageAsync(language.Code, CancellationToken.None);
            }
            catch (Exception ex)
            {
                LogCloseFailed(ex, language.Code);
            }
        }
    }

    private async Task RunAudioAsync(AudioPipeline pipeline, AudioFanOut fanOut, IAudioSource source, CancellationToken cancellationToken)
    {
        var fan = fanOut.RunAsync(cancellationToken);
        try
        {
            await pipeline.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
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

    private sealed class RunningTrack(ILanguageTrack track, CaptionTrack captions)
    {
        public ILanguageTrack Track { get; } = track;

        public CaptionTrack Captions { get; } = captions;

        public Task Completion { get; set; } = Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Reason}")]
    private partial void LogEngineFallback(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting the {Engine} engine; audio input: {Input}")]
    private partial void LogStarting(string engine, string input);

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
}
