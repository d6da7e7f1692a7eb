using CaptionSidecar.Glossaries;
using CaptionSidecar.Tests.Support;
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
}
