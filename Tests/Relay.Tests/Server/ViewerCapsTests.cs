namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>Viewer accounting against the total and per-address caps.</summary>
public sealed class ViewerCapsTests
{
    [Fact]
    public void PerAddressCap_Refuses429Kind_ThenAdmitsAfterARelease()
    {
        var caps = new ViewerCaps(maxViewers: 10, maxPerAddress: 2);
        Assert.Equal(Admission.Admitted, caps.TryAdmit("1.2.3.4"));
        Assert.Equal(Admission.Admitted, caps.TryAdmit("1.2.3.4"));
        Assert.Equal(Admission.AddressFull, caps.TryAdmit("1.2.3.4"));
        Assert.Equal(Admission.Admitted, caps.TryAdmit("5.6.7.8"));

        caps.Release("1.2.3.4");

        Assert.Equal(Admission.Admitted, caps.TryAdmit("1.2.3.4"));
        Assert.Equal(3, caps.Total);
    }

    [Fact]
    public void TotalCap_RefusesEveryAddress()
    {
        var caps = new ViewerCaps(maxViewers: 2, maxPerAddress: 5);
        caps.TryAdmit("a");
        caps.TryAdmit("b");
        Assert.Equal(Admission.RelayFull, caps.TryAdmit("c"));
        caps.Release("a");
        Assert.Equal(Admission.Admitted, caps.TryAdmit("c"));
    }

    [Fact]
    public void ReleasingEveryViewer_LeavesNothingCounted()
    {
        var caps = new ViewerCaps(100, 100);
        Parallel.For(0, 1000, i =>
        {
            var address = $"10.0.0.{i % 7}";
            if (caps.TryAdmit(address) == Admission.Admitted)
            {
                caps.Release(address);
            }
        });

        Assert.Equal(0, caps.Total);
        Assert.Equal(0, caps.From("10.0.0.1"));
        // An unknown address released changes nothing.
        caps.Release("never");
        Assert.Equal(0, caps.Total);
    }
}
