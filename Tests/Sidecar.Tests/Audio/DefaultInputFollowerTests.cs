using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

/// <summary>When a stream on <c>--input default</c> is stale because Windows' default input changed.</summary>
public sealed class DefaultInputFollowerTests
{
    private const string Yeti = "{0.0.1.00000000}.{yeti}";
    private const string Headset = "{0.0.1.00000000}.{headset}";
    private const string Speakers = "{0.0.0.00000000}.{speakers}";

    [Fact]
    public void ChangedTo_NothingReported_IsNull()
    {
        Assert.Null(new DefaultInputFollower().ChangedTo(Yeti));
    }

    [Theory]
    [InlineData(nameof(DefaultEndpointRole.Console))]
    [InlineData(nameof(DefaultEndpointRole.Multimedia))]
    public void ChangedTo_CaptureDefaultMovedToAnotherEndpoint_NamesIt(string roleName)
    {
        var role = Enum.Parse<DefaultEndpointRole>(roleName);
        var follower = new DefaultInputFollower();
        follower.Opening();

        follower.OnDefaultChanged(capture: true, role, Headset);

        Assert.Equal(Headset, follower.ChangedTo(Yeti));
    }

    [Fact]
    public void ChangedTo_OutputOrCommunicationsDefaultChanged_DoesNotConcernTheInput()
    {
        var follower = new DefaultInputFollower();

        follower.OnDefaultChanged(capture: false, DefaultEndpointRole.Console, Speakers);
        follower.OnDefaultChanged(capture: true, DefaultEndpointRole.Communications, Headset);

        Assert.Null(follower.ChangedTo(Yeti));
    }

    [Fact]
    public void ChangedTo_DefaultGone_LeavesTheStreamToFailByItself()
    {
        var follower = new DefaultInputFollower();

        follower.OnDefaultChanged(capture: true, DefaultEndpointRole.Console, null);
        follower.OnDefaultChanged(capture: true, DefaultEndpointRole.Console, string.Empty);

        Assert.Null(follower.ChangedTo(Yeti));
    }

    [Fact]
    public void ChangedTo_ConsoleAndMultimediaBothReported_StreamReopenedOnTheNewDefaultIsNotStale()
    {
        var follower = new DefaultInputFollower();
        follower.OnDefaultChanged(capture: true, DefaultEndpointRole.Console, Headset);
        Assert.Equal(Headset, follower.ChangedTo(Yeti));

        follower.Opening(); // the loop reopens: the lookup finds the headset
        follower.OnDefaultChanged(capture: true, DefaultEndpointRole.Multimedia, Headset); // the second notification comes late

        Assert.Null(follower.ChangedTo(Headset));
    }

    [Fact]
    public void ChangedTo_ChangeReportedWhileReopening_IsNotLost()
    {
        var follower = new DefaultInputFollower();
        follower.Opening();
        // The lookup still found the Yeti, then the default moved.
        follower.OnDefaultChanged(capture: true, DefaultEndpointRole.Console, Headset);

        Assert.Equal(Headset, follower.ChangedTo(Yeti));
    }

    [Fact]
    public void ChangedTo_IdsCompareIgnoringCase()
    {
        var follower = new DefaultInputFollower();

        follower.OnDefaultChanged(capture: true, DefaultEndpointRole.Console, Yeti.ToUpperInvariant());

        Assert.Null(follower.ChangedTo(Yeti));
    }

    [Fact]
    public void CaptureDeviceChangedException_IsALostStreamForTheLoop()
    {
        IOException ex = new CaptureDeviceChangedException("'Headset Microphone'");

        Assert.Equal("Windows' default input changed to 'Headset Microphone'", ex.Message);
    }
}
