using CaptionSidecar.Control;
using CaptionSidecar.Overlay;
using CaptionSidecar.Speakers;
using CaptionSidecar.Tracks;
using CaptionSidecar.YouTube;

namespace CaptionSidecar.Tests.Control;

/// <summary>The greyed-out status lines at the top of the tray menu and the "Open settings folder" item.</summary>
public sealed class TrayMenuStatusTests
{
    private static readonly Uri OverlayUrl = new("http://localhost:4470/overlay");
    private static readonly Uri ControlUrl = new("http://localhost:4470/control?token=secret-token");

    private static ControlStatus Status(string engine = "openai", string obs = "connected", IReadOnlyList<TrackSessionState>? tracks = null,
        bool? muted = null, IReadOnlyList<SpeakerStatus>? speakers = null) =>
        new(engine, 12, [.. (tracks ?? [TrackSessionState.Connected]).Select((s, i) => new TrackStatus($"l{i}", s))], obs, null, 0, 0, [], [],
            Muted: muted, Speakers: speakers);

    private static string[] Lines(ControlStatus status) => [.. TrayMenu.StatusItems(status).Select(i => i.Text)];

    [Fact]
    public void Build_StatusLinesComeFirst_GreyedOutAndUnchecked_ThenASeparatorThenTheLanguages()
    {
        var surface = new FakeControlSurface(new LanguageState("en", "en (spoken)", true), new LanguageState("es", "es", false))
        {
            Status = Status(engine: "test-pattern", obs: "off"),
        };
        var menu = new TrayMenu(surface, new FakeShellActions(), OverlayUrl, ControlUrl);

        var items = menu.Build().Items;

        Assert.Equal(["Captions: test pattern", "OBS: off"], items.TakeWhile(i => i.Kind == TrayMenuItemKind.Status).Select(i => i.Text));
        Assert.All(items.Where(i => i.Kind == TrayMenuItemKind.Status), i => Assert.False(i.Enabled || i.Checked));
        Assert.Equal(TrayMenuItemKind.Separator, items[2].Kind);
        Assert.Equal("language:en", items[3].Id);
    }

    [Theory]
    [InlineData("Realtime: connected", new[] { TrackSessionState.Connected, TrackSessionState.Connected })]
    [InlineData("Realtime: connecting", new[] { TrackSessionState.Connected, TrackSessionState.Reconnecting })]
    [InlineData("Realtime: connecting", new[] { TrackSessionState.Starting })]
    [InlineData("Realtime: failed", new[] { TrackSessionState.Connecting, TrackSessionState.Failed })]
    [InlineData("Realtime: no language on", new TrackSessionState[0])]
    [InlineData("Realtime: stopped", new[] { TrackSessionState.Stopped })]
    public void StatusItems_RealtimeLine_SumsUpTheTracks(string expected, TrackSessionState[] tracks)
    {
        Assert.Equal(expected, Lines(Status(tracks: tracks))[0]);
    }

    [Theory]
    [InlineData("off", "OBS: off")]
    [InlineData("connected", "OBS: connected")]
    [InlineData("connecting", "OBS: connecting")]
    [InlineData("disconnected", "OBS: not connected")]
    [InlineData("sessioninvalidated", "OBS: not connected")]
    [InlineData("authenticationfailed", "OBS: password rejected")]
    public void StatusItems_ObsLine_SaysTheConnectionInWords(string state, string expected)
    {
        Assert.Equal(expected, Lines(Status(obs: state))[1]);
    }

    [Theory]
    [InlineData(true, "idle", "upload.youtube.com", "YouTube: on (es)")]
    [InlineData(true, "retrying", "upload.youtube.com", "YouTube: es, retrying")]
    [InlineData(true, "refused", "upload.youtube.com", "YouTube: paused (refused: see the control page)")]
    [InlineData(false, "off", "upload.youtube.com", "YouTube: off")]
    public void StatusItems_YouTubeWithAUrl_SaysWhetherItIsOn(bool on, string state, string host, string expected)
    {
        var youTube = new YouTubeOutputStatus(on, state, host, "es", 0, 1, 0, 0, 0, 0, null, null, null, 0);

        Assert.Equal(["Realtime: connected", "OBS: connected", expected], Lines(Status() with { YouTube = youTube }));
    }

    [Fact]
    public void StatusItems_YouTubeNeverSetUp_NoLine()
    {
        var youTube = new YouTubeOutputStatus(false, "off", null, "en", 0, 1, 0, 0, 0, 0, null, null, null, 0);

        Assert.Equal(["Realtime: connected", "OBS: connected"], Lines(Status() with { YouTube = youTube }));
    }

    [Fact]
    public void StatusItems_NothingMuted_OnlyTheTwoConnectionLines()
    {
        Assert.Equal(["Realtime: connected", "OBS: connected"], Lines(Status(muted: false, speakers: [TrayMenuSpeakerTests.Unnamed()])));
    }

    [Fact]
    public void StatusItems_MicMutedInObs_SaysCaptionsArePaused()
    {
        Assert.Equal(["Realtime: connected", "OBS: connected", "Mic muted in OBS: captions paused"], Lines(Status(muted: true)));
    }

    [Fact]
    public void StatusItems_SpeakersMutedInObsOrByAModerator_NamesThem()
    {
        var speakers = new[]
        {
            TrayMenuSpeakerTests.Speaker("Alice") with { MutedInObs = true },
            TrayMenuSpeakerTests.Speaker("Bob", captioned: false),
            TrayMenuSpeakerTests.Speaker("Cy") with { MutedInObs = false },
        };

        Assert.Equal(["Realtime: connected", "OBS: connected", "Mic muted in OBS: Alice", "Muted: Bob"], Lines(Status(speakers: speakers)));
    }

    [Fact]
    public async Task ClickAsync_AStatusItem_IsNotAnAction()
    {
        var surface = new FakeControlSurface(new LanguageState("en", "en", true));
        var shell = new FakeShellActions();
        var menu = new TrayMenu(surface, shell, OverlayUrl, ControlUrl);
        var status = menu.Build().Items.First(i => i.Kind == TrayMenuItemKind.Status);

        await Assert.ThrowsAsync<ArgumentException>(() => menu.ClickAsync(status.Id, TestContext.Current.CancellationToken));

        Assert.Empty(surface.Toggles);
        Assert.Equal(0, shell.Quits);
    }

    [Fact]
    public async Task OpenSettingsFolder_WithAFolder_ItemAfterOpenControlPage_OpensThatFolder()
    {
        var shell = new FakeShellActions();
        var folder = Path.Combine(Path.GetTempPath(), "CaptionSidecar-settings-folder");
        var menu = new TrayMenu(new FakeControlSurface(new LanguageState("en", "en", true)), shell, OverlayUrl, ControlUrl, folder);

        var actions = menu.Build().Items.SkipWhile(i => i.Kind != TrayMenuItemKind.OpenControlPage).Select(i => i.Text).ToList();
        await menu.ClickAsync(TrayMenu.OpenSettingsFolderId, TestContext.Current.CancellationToken);

        Assert.Equal(["Open control page", "Open settings folder", "Copy overlay URL", "Clear captions", "", "Quit"], actions);
        Assert.Equal([folder], shell.OpenedFolders);
        Assert.Empty(shell.Opened);
    }

    [Fact]
    public async Task OpenSettingsFolder_WithoutAFolder_NoItemAndTheIdIsUnknown()
    {
        var shell = new FakeShellActions();
        var menu = new TrayMenu(new FakeControlSurface(new LanguageState("en", "en", true)), shell, OverlayUrl, ControlUrl);

        Assert.DoesNotContain(menu.Build().Items, i => i.Kind == TrayMenuItemKind.OpenSettingsFolder);
        await Assert.ThrowsAsync<ArgumentException>(() => menu.ClickAsync(TrayMenu.OpenSettingsFolderId, TestContext.Current.CancellationToken));
        Assert.Empty(shell.OpenedFolders);
    }
}
