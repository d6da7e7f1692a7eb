using CaptionSidecar.Glossaries;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Glossaries;

/// <summary>When a changed glossary file is put in force: debounced, checked, the last good one kept.</summary>
public sealed class GlossaryReloadTests
{
    [Fact]
    public void Read_ChangeSeenOnTwoTicks_AppliedOnce()
    {
        var reload = new GlossaryReload("/g.txt", null, "OBS");

        Assert.Same(GlossaryReloadAction.None, reload.Read("OBS"));
        Assert.Same(GlossaryReloadAction.None, reload.Read("OBS\nKuber"));
        Assert.Same(GlossaryReloadAction.None, reload.Read("OBS\nKubernetes"));
        var apply = Assert.IsType<GlossaryReloadAction.Apply>(reload.Read("OBS\nKubernetes"));
        Assert.Equal(["OBS", "Kubernetes"], apply.Glossary.Terms.Select(t => t.Term));
        Assert.Same(GlossaryReloadAction.None, reload.Read("OBS\nKubernetes"));
    }

    [Fact]
    public void Read_InvalidChange_RefusedOnceThenAFixAppliesAndUnreadableTicksAreSkipped()
    {
        var reload = new GlossaryReload("/g.txt", null, "OBS");

        Assert.Same(GlossaryReloadAction.None, reload.Read("OBS\n| es: x"));
        var refuse = Assert.IsType<GlossaryReloadAction.Refuse>(reload.Read("OBS\n| es: x"));
        Assert.Contains("line 2", refuse.Error, StringComparison.Ordinal);
        Assert.Same(GlossaryReloadAction.None, reload.Read("OBS\n| es: x"));
        Assert.Same(GlossaryReloadAction.None, reload.Read(null));
        Assert.Same(GlossaryReloadAction.None, reload.Read("Valorant"));
        Assert.Same(GlossaryReloadAction.None, reload.Read(null));
        Assert.Same(GlossaryReloadAction.None, reload.Read("Valorant"));
        Assert.IsType<GlossaryReloadAction.Apply>(reload.Read("Valorant"));
    }

    [Fact]
    public async Task Watcher_FileChanged_ReplacesTheGlossaryOnTheClocksTicks()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = Path.Combine(Path.GetTempPath(), $"glossary-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(path, "OBS", ct);
        try
        {
            var time = new TimerSignallingTimeProvider();
            var source = new GlossarySource(path, null, Glossary.Parse("OBS"));
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            source.Changed += (_, _) => changed.TrySetResult();
            using var watcher = new GlossaryWatcher(source, time, NullLogger<GlossaryWatcher>.Instance);
            await watcher.StartAsync(ct);
            await time.NextTimerAsync(ct);

            await File.WriteAllTextAsync(path, "OBS\nRanked mode | es: modo clasificatoria", ct);

            // Each tick reads the file asynchronously; advance until the debounced change is applied.
            await Poll.UntilAsync(
                () =>
                {
                    time.Advance(GlossaryWatcher.Period);
                    return changed.Task.IsCompleted;
                },
                "the watcher applies the changed glossary",
                ct);
            Assert.Equal("modo clasificatoria", source.Current.Terms[1].Translations["es"]);
            await watcher.StopAsync(ct);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Watcher_FileGoneForLong_OneWarningLastGoodKeptAndBackWhenItReturns()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = Path.Combine(Path.GetTempPath(), $"glossary-gone-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(path, "OBS", ct);
        try
        {
            var time = new TimerSignallingTimeProvider();
            var source = new GlossarySource(path, null, Glossary.Parse("OBS"));
            var logger = new ListLogger<GlossaryWatcher>();
            using var watcher = new GlossaryWatcher(source, time, logger);
            await watcher.StartAsync(ct);
            await time.NextTimerAsync(ct);
            File.Delete(path);

            bool Warned() => logger.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("cannot be read", StringComparison.Ordinal));
            await Poll.UntilAsync(
                () =>
                {
                    time.Advance(GlossaryWatcher.Period);
                    return Warned();
                },
                "the watcher warns that the glossary file is gone",
                ct);

            // Many more reads of a missing file: still that one warning, and the last good glossary in force.
            for (var i = 0; i < 3 * GlossaryWatcher.UnreadableReadsBeforeWarning; i++)
            {
                time.Advance(GlossaryWatcher.Period);
            }

            await File.WriteAllTextAsync(path, "OBS", ct);
            await Poll.UntilAsync(
                () =>
                {
                    time.Advance(GlossaryWatcher.Period);
                    return logger.Entries.Any(e => e.Message.Contains("can be read again", StringComparison.Ordinal));
                },
                "the watcher says the glossary file is back",
                ct);
            await watcher.StopAsync(ct);

            Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
            Assert.Equal("OBS", Assert.Single(source.Current.Terms).Term);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
