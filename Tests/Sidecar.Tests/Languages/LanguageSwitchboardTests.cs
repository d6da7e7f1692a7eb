using CaptionSidecar.Hosting;
using CaptionSidecar.Languages;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Languages;

public sealed class LanguageSwitchboardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("switchboard-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Constructor_NothingConfiguredOrSaved_OnlyTheSourceIsOn()
    {
        var board = Create(enabled: null);

        Assert.Equal(["en"], board.Enabled.Select(l => l.Code));
        Assert.True(board.Languages[0].Language.IsSource);
        Assert.Equal("English (spoken)", board.Languages[0].Name);
        Assert.Contains(board.Languages, l => l.Language.Code == "es" && !l.Enabled && l.Name == "Spanish");
    }

    [Fact]
    public void Constructor_ConfiguredTargets_SourceAndTargetsOnAndUnlistedTargetAdded()
    {
        var board = Create(enabled: "es, sv");

        Assert.Equal(["en", "es", "sv"], board.Enabled.Select(l => l.Code));
        Assert.All(board.Enabled.Skip(1), l => Assert.False(l.IsSource));
    }

    [Fact]
    public void Constructor_SourceCodeAmongTargets_ListedOnceAsSource()
    {
        var board = Create(enabled: "en,fr");

        Assert.Single(board.Languages, l => l.Language.Code == "en");
        Assert.Equal(["en", "fr"], board.Enabled.Select(l => l.Code));
    }

    [Fact(Timeout = 30000)]
    public async Task SetEnabledAsync_ChoiceSaved_RestoredByTheNextStart()
    {
        var board = Create(enabled: null);
        await board.SetEnabledAsync("fr", true, TestContext.Current.CancellationToken);
        await board.SetEnabledAsync("en", false, TestContext.Current.CancellationToken);

        var restarted = Create(enabled: null);

        Assert.Equal(["fr"], restarted.Enabled.Select(l => l.Code));
    }

    [Fact(Timeout = 30000)]
    public async Task Constructor_ConfiguredTargets_WinOverTheSavedChoice()
    {
        var board = Create(enabled: null);
        await board.SetEnabledAsync("fr", true, TestContext.Current.CancellationToken);

        var restarted = Create(enabled: "de");

        Assert.Equal(["en", "de"], restarted.Enabled.Select(l => l.Code));
    }

    [Fact]
    public void Constructor_UnreadableSavedChoice_StartsWithTheDefaults()
    {
        File.WriteAllText(Path.Combine(_dir, "languages.json"), "{ not json");

        var board = Create(enabled: null);

        Assert.Equal(["en"], board.Enabled.Select(l => l.Code));
    }

    [Fact(Timeout = 30000)]
    public async Task SetEnabledAsync_UnknownCode_Unknown()
    {
        var board = Create(enabled: null);

        Assert.Equal(LanguageChange.Unknown, await board.SetEnabledAsync("xx", true, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Attach_StartsEveryLanguageWantedOn()
    {
        var board = Create(enabled: "es");
        var runner = new FakeRunner();

        board.Attach(runner);

        Assert.Equal(["en", "es"], runner.Started);
    }

    [Fact(Timeout = 30000)]
    public async Task SetEnabledAsync_BeforeAttach_AppliedByAttach()
    {
        var board = Create(enabled: null);
        await board.SetEnabledAsync("de", true, TestContext.Current.CancellationToken);
        var runner = new FakeRunner();

        board.Attach(runner);

        Assert.Equal(["en", "de"], runner.Started);
    }

    [Fact(Timeout = 30000)]
    public async Task SetEnabledAsync_OffThenOn_StopsThenStartsAgain()
    {
        var board = Create(enabled: "es");
        var runner = new FakeRunner();
        board.Attach(runner);

        await board.SetEnabledAsync("es", false, TestContext.Current.CancellationToken);
        await board.SetEnabledAsync("es", true, TestContext.Current.CancellationToken);

        Assert.Equal(["stop es"], runner.Stopped);
        Assert.Equal(["en", "es", "es"], runner.Started);
        Assert.True(runner.IsRunning("es"));
    }

    [Fact(Timeout = 30000)]
    public async Task SetEnabledAsync_TwentyConcurrentToggles_EndInTheLastStateAskedWithOneTrack()
    {
        var board = Create(enabled: null);
        var runner = new FakeRunner { YieldOnStop = true };
        board.Attach(runner);

        // Concurrent toggles: each request's state is remembered at once, so the last one asked wins however the
        // stops and starts interleave; the runner asserts it never runs two tracks of one language.
        var toggles = Enumerable.Range(0, 20).Select(i => board.SetEnabledAsync("fr", i % 2 == 0, TestContext.Current.CancellationToken)).ToList();
        await Task.WhenAll(toggles);

        Assert.False(board.Languages.Single(l => l.Language.Code == "fr").Enabled); // the 20th asked for off
        Assert.False(runner.IsRunning("fr"));
        Assert.Equal(0, runner.Violations);
    }

    [Fact(Timeout = 30000)]
    public async Task SetEnabledAsync_TwoQuickTogglesWhileTheFirstSaveIsSlow_TheLatestChoiceIsSavedLast()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new BlockingFirstSaveStore();
        var board = new LanguageSwitchboard(
            Options.Create(new LanguageOptions { Enabled = string.Empty }),
            Options.Create(new RealtimeOptions { Language = "en" }),
            store,
            NullLogger<LanguageSwitchboard>.Instance);

        var on = Task.Run(() => board.SetEnabledAsync("es", true, ct), ct);
        await store.FirstSaveEntered.Task.WaitAsync(ct); // the first toggle is inside its save
        var off = board.SetEnabledAsync("es", false, ct); // the second toggle, while that save is slow
        store.ReleaseFirstSave.Set();
        await Task.WhenAll(on, off);

        Assert.DoesNotContain("es", store.Saved[^1].Targets);
        Assert.False(board.Languages.Single(l => l.Language.Code == "es").Enabled);
    }

    [Fact]
    public void ParseCodes_BadCode_NamesIt()
    {
        var ex = Assert.Throws<FormatException>(() => LanguageSwitchboard.ParseCodes("es,Spanish"));

        Assert.Contains("'Spanish'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadEnabledList_FailsNamingTheSetting()
    {
        var result = new LanguageOptionsValidator().Validate(null, new LanguageOptions { Enabled = "es;f r" });

        Assert.True(result.Failed);
        Assert.Contains("Languages:Enabled (--languages)", result.FailureMessage, StringComparison.Ordinal);
    }

    private LanguageSwitchboard Create(string? enabled) => new(
        Options.Create(new LanguageOptions { Enabled = enabled }),
        Options.Create(new RealtimeOptions { Language = "en" }),
        new DataFolders(_dir),
        NullLogger<LanguageSwitchboard>.Instance);

    /// <summary>A store whose first save blocks until the test releases it (a slow disk), keeping every save in order.</summary>
    private sealed class BlockingFirstSaveStore : ILanguageChoiceStore
    {
        private readonly Lock _gate = new();
        private readonly List<LanguageChoice> _saved = [];
        private int _saves;

        public TaskCompletionSource FirstSaveEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ManualResetEventSlim ReleaseFirstSave { get; } = new();

        public IReadOnlyList<LanguageChoice> Saved
        {
            get
            {
                lock (_gate)
                {
                    return [.. _saved];
                }
            }
        }

        public string Path => "memory";

        public LanguageChoice? Load() => null;

        public void Save(LanguageChoice choice)
        {
            if (Interlocked.Increment(ref _saves) == 1)
            {
                FirstSaveEntered.TrySetResult();
                ReleaseFirstSave.Wait(TimeSpan.FromSeconds(20)); // a test thread, not product code
            }

            lock (_gate)
            {
                _saved.Add(choice);
            }
        }
    }

    private sealed class FakeRunner : ILanguageRunner
    {
        private readonly Lock _gate = new();
        private readonly HashSet<string> _running = new(StringComparer.Ordinal);

        public List<string> Started { get; } = [];

        public List<string> Stopped { get; } = [];

        public int Violations { get; private set; }

        /// <summary>Stops complete asynchronously (after a yield), so concurrent toggles interleave without real time.</summary>
        public bool YieldOnStop { get; init; }

        public bool TryStart(CaptionLanguage language)
        {
            lock (_gate)
            {
                if (!_running.Add(language.Code))
                {
                    Violations++;
                }

                Started.Add(language.Code);
            }

            return true;
        }

        public async Task StopAsync(string code, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (YieldOnStop)
            {
                await Task.Yield();
            }

            lock (_gate)
            {
                if (!_running.Remove(code))
                {
                    Violations++;
                }

                Stopped.Add($"stop {code}");
            }
        }

        public bool IsRunning(string code)
        {
            lock (_gate)
            {
                return _running.Contains(code);
            }
        }
    }
}
