using CaptionSidecar.Control;
using CaptionSidecar.Hosting;
using CaptionSidecar.Overlay;
using CaptionSidecar.Speakers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Control;

public sealed class TrayMenuSpeakerTests : IDisposable
{
    private readonly string _tokenFolder = Path.Combine(Path.GetTempPath(), "tray-speaker-tests-" + Guid.NewGuid().ToString("N"));
    private static readonly Uri OverlayUrl = new("http://localhost:4470/overlay");
    private static readonly Uri ControlUrl = new("http://localhost:4470/control?token=secret-token");

    internal static SpeakerStatus Speaker(string name, bool captioned = true, string language = "en") =>
        new(name, Label: true, "#4fc3f7", language, "default", captioned, "receiving", null, -12, -20, true, null);

    internal static SpeakerStatus Unnamed(bool captioned = true) =>
        new(Speakers.Speaker.UnnamedKey, Label: false, null, "en", "default", captioned, "receiving", null, -12, -20, true, null);

    private static FakeControlSurface WithSpeakers(params SpeakerStatus[] speakers) =>
        new(new LanguageState("en", "en (spoken)", true), new LanguageState("es", "es", false)) { Speakers = speakers };

    [Fact]
    public void Build_OnlyTheUnnamedSpeaker_NoSpeakerItems()
    {
        var menu = new TrayMenu(WithSpeakers(Unnamed()), new FakeShellActions(), OverlayUrl, ControlUrl);

        var items = menu.Build().Items;

        Assert.DoesNotContain(items, i => i.Kind == TrayMenuItemKind.Speaker);
        Assert.Equal(
            [TrayMenuItemKind.Status, TrayMenuItemKind.Status, TrayMenuItemKind.Separator,
             TrayMenuItemKind.Language, TrayMenuItemKind.Language, TrayMenuItemKind.Separator, TrayMenuItemKind.OpenControlPage,
             TrayMenuItemKind.CopyOverlayUrl, TrayMenuItemKind.ClearCaptions, TrayMenuItemKind.Separator, TrayMenuItemKind.Quit],
            items.Select(i => i.Kind));
    }

    [Fact]
    public void Build_NamedSpeakers_OneItemEachAfterTheLanguages_CheckedWhileCaptioned()
    {
        var menu = new TrayMenu(WithSpeakers(Speaker("Alice"), Speaker("Bob", captioned: false, language: "es")), new FakeShellActions(), OverlayUrl, ControlUrl);

        var items = menu.Build().Items;

        Assert.Equal(
            [TrayMenuItemKind.Status, TrayMenuItemKind.Status, TrayMenuItemKind.Status, TrayMenuItemKind.Separator,
             TrayMenuItemKind.Language, TrayMenuItemKind.Language, TrayMenuItemKind.Separator, TrayMenuItemKind.Speaker, TrayMenuItemKind.Speaker,
             TrayMenuItemKind.Separator, TrayMenuItemKind.OpenControlPage, TrayMenuItemKind.CopyOverlayUrl, TrayMenuItemKind.ClearCaptions,
             TrayMenuItemKind.Separator, TrayMenuItemKind.Quit],
            items.Select(i => i.Kind));
        Assert.Equal(new TrayMenuItem("speaker:Alice", "Alice", Checked: true, Enabled: true, TrayMenuItemKind.Speaker), items[7]);
        Assert.Equal(new TrayMenuItem("speaker:Bob", "Bob", Checked: false, Enabled: true, TrayMenuItemKind.Speaker), items[8]);
        Assert.Equal("Muted: Bob", items[2].Text); // Bob is muted: the status says so
        Assert.Equal(items.Count, items.Select(i => i.Id).Distinct().Count());
    }

    [Fact]
    public async Task ClickAsync_SpeakerTwice_MutesThenCaptionsAndTheCheckMarkFollows()
    {
        var surface = WithSpeakers(Speaker("Alice"), Speaker("Bob"));
        var menu = new TrayMenu(surface, new FakeShellActions(), OverlayUrl, ControlUrl);
        var cancellation = TestContext.Current.CancellationToken;

        await menu.ClickAsync("speaker:Bob", cancellation);
        var afterFirst = menu.Build();
        await menu.ClickAsync("speaker:Bob", cancellation);
        var afterSecond = menu.Build();

        Assert.False(afterFirst.Items.Single(i => i.Id == "speaker:Bob").Checked);
        Assert.True(afterFirst.Items.Single(i => i.Id == "speaker:Alice").Checked);
        Assert.True(afterSecond.Items.Single(i => i.Id == "speaker:Bob").Checked);
        Assert.Equal([("Bob", false), ("Bob", true)], surface.SpeakerChanges);
        Assert.Empty(surface.Toggles);
    }

    [Fact]
    public async Task ClickAsync_SpeakerChangedElsewhere_ClickInvertsTheCurrentState()
    {
        var surface = WithSpeakers(Speaker("Alice"));
        var menu = new TrayMenu(surface, new FakeShellActions(), OverlayUrl, ControlUrl);
        var shown = menu.Build();
        var cancellation = TestContext.Current.CancellationToken;

        // The control page mutes Alice after the menu was drawn with her checked.
        await surface.ChangeSpeakerAsync("Alice", false, cancellation);
        await menu.ClickAsync(shown.Items.Single(i => i.Kind == TrayMenuItemKind.Speaker).Id, cancellation);

        Assert.Equal([("Alice", false), ("Alice", true)], surface.SpeakerChanges);
    }

    [Fact]
    public async Task ClickAsync_UnknownSpeaker_ThrowsNamingItAndChangesNothing()
    {
        var surface = WithSpeakers(Speaker("Alice"));
        var menu = new TrayMenu(surface, new FakeShellActions(), OverlayUrl, ControlUrl);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => menu.ClickAsync("speaker:Carol", TestContext.Current.CancellationToken));

        Assert.Contains("Carol", error.Message, StringComparison.Ordinal);
        Assert.Empty(surface.SpeakerChanges);
    }

    [Fact]
    public void Build_ToolTip_NamesMutedSpeakers()
    {
        var named = new TrayMenu(WithSpeakers(Speaker("Alice", captioned: false), Speaker("Bob"), Speaker("Cy", captioned: false)), new FakeShellActions(), OverlayUrl, ControlUrl);
        var unnamed = new TrayMenu(WithSpeakers(Unnamed(captioned: false)), new FakeShellActions(), OverlayUrl, ControlUrl);
        var none = new TrayMenu(WithSpeakers(Speaker("Alice")), new FakeShellActions(), OverlayUrl, ControlUrl);

        Assert.Equal("CaptionSidecar: en on, es off; OBS connected; muted: Alice, Cy", named.Build().ToolTip);
        Assert.Equal("CaptionSidecar: en on, es off; OBS connected; muted: default", unnamed.Build().ToolTip);
        Assert.Equal("CaptionSidecar: en on, es off; OBS connected", none.Build().ToolTip);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_SpeakerClickOrChangeElsewhere_IconShowsTheNewCheckMark()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var surface = WithSpeakers(Speaker("Alice"), Speaker("Bob"));
        var time = new FakeTimeProvider();
        var factory = new FakeTrayIconFactory();
        using var lifetime = new FakeLifetime();
        using var service = new TrayService(surface, lifetime, new FakeServer("http://127.0.0.1:4470"), ControlToken.LoadOrCreate(_tokenFolder), new DataFolders(_tokenFolder), time,
            NullLogger<TrayService>.Instance, factory);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);

        var run = service.RunAsync(factory, OverlayUrl, ControlUrl, stop.Token);
        var icon = Assert.Single(factory.Created);
        Assert.True(icon.Shown!.Items.Single(i => i.Id == "speaker:Bob").Checked);

        await icon.ClickAsync("speaker:Bob");
        var clicked = await icon.Updates.ReadAsync(cancellation);
        Assert.False(clicked.Items.Single(i => i.Id == "speaker:Bob").Checked);
        Assert.Contains("muted: Bob", clicked.ToolTip, StringComparison.Ordinal);

        await surface.ChangeSpeakerAsync("Alice", false, cancellation);
        time.Advance(TrayService.RefreshInterval);
        var refreshed = await icon.Updates.ReadAsync(cancellation);
        Assert.False(refreshed.Items.Single(i => i.Id == "speaker:Alice").Checked);

        await stop.CancelAsync();
        await run;
        Assert.True(icon.Disposed);
    }

    public void Dispose()
    {
        if (Directory.Exists(_tokenFolder))
        {
            Directory.Delete(_tokenFolder, recursive: true);
        }
    }
}
