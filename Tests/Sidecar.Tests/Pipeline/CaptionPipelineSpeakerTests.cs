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
using CaptionSidecar.Tests.Captions;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using CaptionSidecar.Translation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Pipeline;

/// <summary>
/// The pipeline with several speakers, fake audio, fake engines and a fake clock: each speaker's own transcription,
/// text translations fed by the other speakers' final lines, labels on every line, and muting one speaker.
/// </summary>
public sealed class CaptionPipelineSpeakerTests
{
    private static readonly AudioFormat Mono48k = new(48_000, 1);
    private static readonly Speaker Alice = new("Alice", new SpeakerLabel("Alice", "#ffd166"), "file:/tmp/alice.wav", "en", null);
    private static readonly Speaker Bob = new("Bob", new SpeakerLabel("Bob", "#64d2ff"), "file:/tmp/bob.wav", "es", null);
    private readonly SpeakerEngine _engine = new();
    private readonly FakeTextEngine _text = new();
    private readonly FakeLifetime _lifetime = new();
    private readonly ProcessOutcome _outcome = new();
    private readonly RecordingPublisher _captions = new();

    [Fact(Timeout = 30000)]
    public async Task TextMode_TwoSpeakersOfTwoLanguages_EachTranscribedOnceAndTranslatedFromTextWithTheirLabel()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = Create([Alice, Bob], "es", TranslationSource.Text, _ => new FakeAudioSource(new float[48_000], Mono48k, canOutrunRealTime: false));

        await service.StartAsync(ct);
        await _lifetime.Stopped.Task.WaitAsync(ct);
        await service.ExecuteTask!.WaitAsync(ct);

        Assert.Equal(0, _outcome.ExitCode);
        Assert.Equal(["transcribe:Alice:en", "transcribe:Bob:es"], _engine.Created.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["en", "es"], _text.Created.Keys.Order(StringComparer.Ordinal)); // Bob's lines into English, Alice's into Spanish
        Assert.All(_engine.Created.Values, t => Assert.InRange(t.ChunksHeard, 49, 50));

        var finals = _captions.Finalized;
        Assert.Contains(finals, f => f is { Language: "en", Text: "Alice says hello." } && f.Speaker == Alice.Label);
        Assert.Contains(finals, f => f is { Language: "en", Text: "[en] Bob dice hola." } && f.Speaker == Bob.Label);
        Assert.Contains(finals, f => f is { Language: "es", Text: "Bob dice hola." } && f.Speaker == Bob.Label);
        Assert.Contains(finals, f => f is { Language: "es", Text: "[es] Alice says hello." } && f.Speaker == Alice.Label);
        Assert.Equal(4, finals.Count);
        Assert.All(_captions.Updates.SelectMany(u => u.Lines), l => Assert.NotNull(l.Speaker));

        // A language's final lines are numbered in the language, in start order across speakers.
        Assert.All(finals.GroupBy(f => f.Language), g => Assert.Equal([1, 2], g.Select(f => f.Index)));
    }

    [Fact(Timeout = 30000)]
    public async Task AudioMode_TwoSpeakers_EachTargetHearsEverySpeakerWhoSpeaksAnotherLanguage()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = Create([Alice, Bob], "es,fr", TranslationSource.Audio, _ => new FakeAudioSource(new float[48_000], Mono48k, canOutrunRealTime: false));

        await service.StartAsync(ct);
        await _lifetime.Stopped.Task.WaitAsync(ct);
        await service.ExecuteTask!.WaitAsync(ct);

        Assert.Equal(
            ["audiotranslate:Alice:es", "audiotranslate:Alice:fr", "audiotranslate:Bob:en", "audiotranslate:Bob:fr", "transcribe:Alice:en", "transcribe:Bob:es"],
            _engine.Created.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(_text.Created);
    }

    [Fact(Timeout = 30000)]
    public async Task SetCaptionedAsync_MuteOneSpeaker_StopsOnlyTheirTracksAndClearsTheirLinesThenCaptionsThemAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var host = Alice with { Input = "device:a" };
        var guest = Bob with { Input = "device:b", Language = "en" };
        var service = Create([host, guest], "", TranslationSource.Text, _ => new EndlessLiveSource());
        await service.StartAsync(ct);
        var aliceTrack = await _engine.StartedAsync("transcribe:Alice:en", ct);
        var bobTrack = await _engine.StartedAsync("transcribe:Bob:en", ct);
        bobTrack.Show("Bob is talking");
        await Poll.UntilAsync(() => _captions.Updates.Any(u => u.Lines.Any(l => l.Text == "Bob is talking")), "Bob's line is shown", ct);

        Assert.Equal(SpeakerChange.Applied, await service.SetCaptionedAsync("bob", false, ct));

        Assert.True(bobTrack.WasCancelled);
        Assert.False(aliceTrack.WasCancelled);
        Assert.DoesNotContain(_captions.Last.Lines, l => l.Speaker == guest.Label);
        Assert.Equal([true, false], service.Speakers.Select(s => s.Captioned));
        Assert.Equal(SpeakerChange.Unknown, await service.SetCaptionedAsync("Carol", false, ct));

        _engine.Forget("transcribe:Bob:en");
        Assert.Equal(SpeakerChange.Applied, await service.SetCaptionedAsync("Bob", true, ct));
        var again = await _engine.StartedAsync("transcribe:Bob:en", ct);
        Assert.NotSame(bobTrack, again);

        await service.StopAsync(ct);
        await service.ExecuteTask!.WaitAsync(ct);
    }

    private CaptionPipelineService Create(IReadOnlyList<Speaker> speakers, string enabled, TranslationSource from, Func<string, IAudioSource> source)
    {
        var time = new FakeTimeProvider();
        var dispatcher = new CaptionDispatcher([], NullLogger<CaptionDispatcher>.Instance, time);
        var switchboard = new LanguageSwitchboard(
            Options.Create(new LanguageOptions { Enabled = enabled, Available = "es,fr" }),
            Options.Create(new RealtimeOptions { Language = "en" }),
            new MemoryChoiceStore(),
            NullLogger<LanguageSwitchboard>.Instance);
        return new CaptionPipelineService(
            _engine,
            new EngineChoice(EngineChoice.OpenAi, null),
            new SourceFactory(source),
            Options.Create(new AudioOptions { Input = "default", NoPacing = true }),
            new VoiceGateChoice(null, "The voice gate is off."),
            new SpeakerRoster(speakers),
            _ => new AudioHoldChoice(null, null),
            Options.Create(new CaptionOptions()),
            Options.Create(new SidecarOptions { ExitAtEnd = true }),
            Options.Create(new RealtimeOptions { Language = "en", TranslateFrom = from }),
            switchboard,
            new CostMeter(Options.Create(new PricingOptions())),
            _captions,
            dispatcher,
            _lifetime,
            _outcome,
            new SignallingLogger<CaptionPipelineService>(),
            time,
            _text);
    }

    private sealed class SourceFactory(Func<string, IAudioSource> open) : IAudioSourceFactory
    {
        public Task<IAudioSource> OpenAsync(AudioOptions options, CancellationToken cancellationToken) => Task.FromResult(open(options.Input));
    }

    /// <summary>A live source that delivers nothing until it is cancelled.</summary>
    private sealed class EndlessLiveSource : IAudioSource
    {
        public string Description => "endless";

        public AudioFormat Format => Mono48k;

        public bool IsLive => true;

        public bool CanOutrunRealTime => false;

        public async ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Tracks keyed like the pipeline's (role:speaker:language); a transcription says one line per speaker when its audio ends.</summary>
    private sealed class SpeakerEngine : ILanguageTrackFactory
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<SpeakerTrack>> _started = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, SpeakerTrack> Created { get; } = new(StringComparer.Ordinal);

        public string EngineName => "fake";

        public bool UsesAudio => true;

        public ILanguageTrack Create(CaptionLanguage language, Speaker? speaker = null)
        {
            var key = $"{(language.IsSource ? "transcribe" : "audiotranslate")}:{speaker!.Key}:{language.Code}";
            var track = new SpeakerTrack(language, speaker, Started(key));
            Created[key] = track;
            return track;
        }

        public Task<SpeakerTrack> StartedAsync(string key, CancellationToken cancellationToken) => Started(key).Task.WaitAsync(cancellationToken);

        public void Forget(string key) => _started.TryRemove(key, out _);

        private TaskCompletionSource<SpeakerTrack> Started(string key) =>
            _started.GetOrAdd(key, _ => new TaskCompletionSource<SpeakerTrack>(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    private sealed class SpeakerTrack(CaptionLanguage language, Speaker speaker, TaskCompletionSource<SpeakerTrack> started) : ILanguageTrack
    {
        private readonly Channel<string> _show = Channel.CreateUnbounded<string>();

        public CaptionLanguage Language => language;

        public TrackStatus Status => new(language.Code, TrackSessionState.Connected);

        public int ChunksHeard { get; private set; }

        public bool WasCancelled { get; private set; }

        /// <summary>Makes the track report a tentative line (from its own loop).</summary>
        public void Show(string text) => _show.Writer.TryWrite(text);

        public async Task RunAsync(ChannelReader<AudioChunk> audio, ICaptionInput captions, CancellationToken cancellationToken)
        {
            started.TrySetResult(this);
            try
            {
                var reading = audio.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                var shown = 0;
                var next = reading.MoveNextAsync().AsTask();
                while (true)
                {
                    var show = _show.Reader.WaitToReadAsync(cancellationToken).AsTask();
                    if (await Task.WhenAny(next, show) == show && _show.Reader.TryRead(out var text))
                    {
                        captions.TurnCommitted($"shown{++shown}", null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
                        captions.TextDelta($"shown{shown}", text);
                        continue;
                    }

                    if (!await next)
                    {
                        break;
                    }

                    ChunksHeard++;
                    next = reading.MoveNextAsync().AsTask();
                }

                var line = speaker.Language == "en" ? $"{speaker.Key} says hello." : $"{speaker.Key} dice hola.";
                var said = language.IsSource ? line : $"[{language.Code}] {line}";
                var start = speaker == Alice ? TimeSpan.FromSeconds(0.1) : TimeSpan.FromSeconds(0.2);
                captions.TurnCommitted("t1", null, start, TimeSpan.FromSeconds(0.9));
                captions.TextCompleted("t1", said);
            }
            catch (OperationCanceledException)
            {
                WasCancelled = true;
                throw;
            }
        }
    }

    /// <summary>A text translation that answers every line with "[code] text", through the speaker's caption track.</summary>
    private sealed class FakeTextEngine : ITextTranslationTrackFactory
    {
        public ConcurrentDictionary<string, FakeTextTrack> Created { get; } = new(StringComparer.Ordinal);

        public ITextTranslationTrack Create(CaptionLanguage target, bool realTime = true)
        {
            var track = new FakeTextTrack(target);
            Created[target.Code] = track;
            return track;
        }
    }

    private sealed class FakeTextTrack(CaptionLanguage language) : ITextTranslationTrack
    {
        public CaptionLanguage Language => language;

        public TrackStatus Status => new(language.Code, TrackSessionState.Connected);

        public async Task RunAsync(ChannelReader<SourceLine> lines, Func<string, ICaptionInput> captions, CancellationToken cancellationToken)
        {
            await foreach (var line in lines.ReadAllAsync(cancellationToken))
            {
                var input = captions(line.SpeakerKey);
                input.TurnCommitted(line.ItemId, null, line.Start, line.End);
                input.TextCompleted(line.ItemId, $"[{language.Code}] {line.Text}");
            }
        }
    }
}
