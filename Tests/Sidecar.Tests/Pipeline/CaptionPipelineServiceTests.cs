using System.Collections.Concurrent;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Costs;
using CaptionSidecar.Hosting;
using CaptionSidecar.Languages;
using CaptionSidecar.Pipeline;
using CaptionSidecar.Realtime;
using CaptionSidecar.Speakers;
using CaptionSidecar.Tests.Audio;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Pipeline;

/// <summary>The pipeline service with fake audio, fake tracks and a fake clock: start, stop, end of input, cancellation.</summary>
public sealed class CaptionPipelineServiceTests
{
    private static readonly AudioFormat Mono48k = new(48_000, 1);
    private readonly FakeTrackFactory _engine = new();
    private readonly FakeLifetime _lifetime = new();
    private readonly ProcessOutcome _outcome = new();
    private readonly SignallingLogger<CaptionPipelineService> _loggers = new();

    [Fact(Timeout = 30000)]
    public async Task ExecuteAsync_InputEnds_EveryTrackHearsItAndFinishesThenExitAtEndStopsTheHost()
    {
        var ct = TestContext.Current.CancellationToken;
        var second = new float[48_000]; // 1 s at 48 kHz: 50 chunks of 20 ms at 24 kHz
        var service = Create(_ => Task.FromResult<IAudioSource>(new FakeAudioSource(second, Mono48k, canOutrunRealTime: false)), new FakeTimeProvider(), enabled: "es");

        await service.StartAsync(ct);
        await _lifetime.Stopped.Task.WaitAsync(ct);
        await service.ExecuteTask!.WaitAsync(ct);

        Assert.Equal(0, _outcome.ExitCode);
        Assert.Equal(["en", "es"], _engine.Created.Keys.Order(StringComparer.Ordinal));
        Assert.All(_engine.Created.Values, t => Assert.InRange(t.ChunksHeard, 49, 50)); // the resampler's tail may not fill the last chunk
        Assert.All(_engine.Created.Values, t => Assert.False(t.WasCancelled));
        Assert.Equal(AudioInputPhase.Ended, service.Input!.Phase);
        Assert.Empty(service.TrackUptimes);
    }

    [Fact(Timeout = 30000)]
    public async Task SetEnabledAsync_WhileAudioFlows_StartsThenStopsThatLanguageAlone()
    {
        var ct = TestContext.Current.CancellationToken;
        var live = new EndlessSource();
        var switchboard = Switchboard(enabled: string.Empty);
        var service = Create(_ => Task.FromResult<IAudioSource>(live), new FakeTimeProvider(), switchboard: switchboard);
        await service.StartAsync(ct);
        var en = await _engine.StartedAsync("en", ct);

        await switchboard.SetEnabledAsync("es", true, ct);
        var es = await _engine.StartedAsync("es", ct);
        Assert.True(service.IsRunning("es"));
        await switchboard.SetEnabledAsync("es", false, ct);

        Assert.True(es.WasCancelled);
        Assert.False(service.IsRunning("es"));
        Assert.False(en.WasCancelled);
        Assert.True(service.IsRunning("en"));
        Assert.Equal(AudioInputPhase.WaitingForAudio, service.Input!.Phase); // open; an endless source that never delivers

        await service.StopAsync(ct);
        await service.ExecuteTask!.WaitAsync(ct);

        // Ended either way: cancelled with the host, or its audio queue completed first (the input stops at once too).
        Assert.True(en.Ended.Task.IsCompleted);
        Assert.True(live.Disposed);
        Assert.Equal(0, _outcome.ExitCode);
    }

    [Fact(Timeout = 30000)]
    public async Task StopAsync_LanguageThatEndedByItself_ReturnsQuietly()
    {
        var ct = TestContext.Current.CancellationToken;
        _engine.EndAtOnce = true;
        var service = Create(_ => Task.FromResult<IAudioSource>(new EndlessSource()), new FakeTimeProvider());
        await service.StartAsync(ct);
        var en = await _engine.StartedAsync("en", ct);
        await en.Ended.Task.WaitAsync(ct);

        await service.StopAsync("en", ct); // the track's stop source is never disposed, so there is nothing to race
        await service.StopAsync(ct);

        Assert.False(service.IsRunning("en"));
        Assert.DoesNotContain(_loggers.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact(Timeout = 30000)]
    public async Task ExecuteAsync_InputNeverOpens_StatusAndLogSayItIsWaitedForAndStopEndsItAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        var service = Create(NeverOpens, time, input: "file:/tmp/audio.fifo");

        await service.StartAsync(ct);
        Assert.Equal(CaptionPipelineService.InputWaitNotice, await time.NextTimerAsync(ct));
        Assert.Equal(AudioInputPhase.Opening, service.Input!.Phase);
        Assert.Equal("file:/tmp/audio.fifo", service.Input.Input);
        time.Advance(CaptionPipelineService.InputWaitNotice);
        var waiting = await _loggers.NextAsync(m => m.Contains("Still waiting for the audio input file:/tmp/audio.fifo", StringComparison.Ordinal), ct);
        Assert.Contains("a FIFO opens only once something writes to it", waiting, StringComparison.Ordinal);
        Assert.Contains("FIFO", service.Input.Detail, StringComparison.Ordinal);

        await service.StopAsync(ct);
        await service.ExecuteTask!.WaitAsync(ct);

        Assert.Empty(_engine.Created); // nothing started without audio
        Assert.Equal(0, _outcome.ExitCode);
        Assert.False(_lifetime.Stopped.Task.IsCompleted);
    }

    [Fact(Timeout = 30000)]
    public async Task ExecuteAsync_InputCannotBeOpened_OneLineWithoutStackTraceAndExitCode2()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = Create(_ => Task.FromException<IAudioSource>(new IOException("/tmp/x is a folder, not a WAV file: give the file itself (--input file:PATH).")), new FakeTimeProvider());

        await service.StartAsync(ct);
        await _lifetime.Stopped.Task.WaitAsync(ct);
        await service.ExecuteTask!.WaitAsync(ct);

        Assert.Equal(SidecarCommandLine.ExitInvalidConfiguration, _outcome.ExitCode);
        var critical = Assert.Single(_loggers.Entries, e => e.Level == LogLevel.Critical);
        Assert.Null(critical.Exception);
        Assert.Equal("The audio input cannot be opened: /tmp/x is a folder, not a WAV file: give the file itself (--input file:PATH).", critical.Message);
        Assert.Equal(AudioInputPhase.Failed, service.Input!.Phase);
        Assert.Empty(_engine.Created);
    }

    private static async Task<IAudioSource> NeverOpens(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    private LanguageSwitchboard Switchboard(string enabled) => new(
        Options.Create(new LanguageOptions { Enabled = enabled, Available = "es,fr" }),
        Options.Create(new RealtimeOptions { Language = "en" }),
        new MemoryChoiceStore(),
        NullLogger<LanguageSwitchboard>.Instance);

    private CaptionPipelineService Create(
        Func<CancellationToken, Task<IAudioSource>> open,
        TimeProvider time,
        string enabled = "",
        LanguageSwitchboard? switchboard = null,
        string input = "file:/tmp/speech.wav")
    {
        var dispatcher = new CaptionDispatcher([], NullLogger<CaptionDispatcher>.Instance, time); // no outputs: closing a language is immediate
        return new(
            _engine,
            new EngineChoice(EngineChoice.OpenAi, null),
            new FakeSourceFactory(open),
            Options.Create(new AudioOptions { Input = input, NoPacing = true }),
            new VoiceGateChoice(null, "The voice gate is off."),
            new SpeakerRoster([new Speaker(Speaker.UnnamedKey, null, input, "en", null)]),
            _ => new AudioHoldChoice(null, null),
            Options.Create(new CaptionOptions()),
            Options.Create(new SidecarOptions { ExitAtEnd = true }),
            Options.Create(new RealtimeOptions { Language = "en", TranslateFrom = TranslationSource.Audio }),
            switchboard ?? Switchboard(enabled),
            new CostMeter(Options.Create(new PricingOptions())),
            dispatcher,
            dispatcher,
            _lifetime,
            _outcome,
            _loggers,
            time);
    }

    private sealed class FakeSourceFactory(Func<CancellationToken, Task<IAudioSource>> open) : IAudioSourceFactory
    {
        public Task<IAudioSource> OpenAsync(AudioOptions options, CancellationToken cancellationToken) => open(cancellationToken);
    }

    /// <summary>A live source that delivers nothing until it is cancelled.</summary>
    private sealed class EndlessSource : IAudioSource
    {
        public string Description => "endless";

        public AudioFormat Format => Mono48k;

        public bool IsLive => true;

        public bool CanOutrunRealTime => false;

        public bool Disposed { get; private set; }

        public async ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    private sealed class FakeTrackFactory : ILanguageTrackFactory
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<FakeTrack>> _started = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, FakeTrack> Created { get; } = new(StringComparer.Ordinal);

        public bool EndAtOnce { get; set; }

        public string EngineName => "fake";

        public bool UsesAudio => true;

        public ILanguageTrack Create(CaptionLanguage language, Speaker? speaker = null)
        {
            var track = new FakeTrack(language, EndAtOnce, Started(language.Code));
            Created[language.Code] = track;
            return track;
        }

        public Task<FakeTrack> StartedAsync(string code, CancellationToken cancellationToken) => Started(code).Task.WaitAsync(cancellationToken);

        private TaskCompletionSource<FakeTrack> Started(string code) =>
            _started.GetOrAdd(code, _ => new TaskCompletionSource<FakeTrack>(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    private sealed class FakeTrack(CaptionLanguage language, bool endAtOnce, TaskCompletionSource<FakeTrack> started) : ILanguageTrack
    {
        public CaptionLanguage Language => language;

        public TrackStatus Status => new(language.Code, TrackSessionState.Connected);

        public int ChunksHeard { get; private set; }

        public bool WasCancelled { get; private set; }

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task RunAsync(ChannelReader<AudioChunk> audio, ICaptionInput captions, CancellationToken cancellationToken)
        {
            started.TrySetResult(this);
            try
            {
                if (endAtOnce)
                {
                    return;
                }

                await foreach (var _ in audio.ReadAllAsync(cancellationToken))
                {
                    ChunksHeard++;
                }
            }
            catch (OperationCanceledException)
            {
                WasCancelled = true;
                throw;
            }
            finally
            {
                Ended.TrySetResult();
            }
        }
    }
}
