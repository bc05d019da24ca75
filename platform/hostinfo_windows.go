//go:build windows

package platform

import (
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// loadHostFacts reads the Windows version and the machine model from the
// registry and asks the power API whether there is a system battery.
func loadHostFacts() hostFacts {
	f := hostFacts{goos: "windows", osName: windowsVersion(), hostName: hostName(), kind: "Windows PC"}
	f.model = registryString(registry.LOCAL_MACHINE, `HARDWARE\DESCRIPTION\System\BIOS`, "SystemProductName")
	if isPlaceholder(f.model) {
		f.model = ""
	}
	if hasSystemBattery() {
		f.kind = "laptop"
	}
	f.fullName, f.login = userNames()
	return f
}

// windowsVersion is "Windows 11 Pro 23H2". ProductName still says
// "Windows 10" on Windows 11; build 22000 and later is Windows 11.
func windowsVersion() string {
	const key = `SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	name := registryString(registry.LOCAL_MACHINE, key, "ProductName")
	if name == "" {
		return "Windows"
	}
	build, _ := strconv.Atoi(registryString(registry.LOCAL_MACHINE, key, "CurrentBuildNumber"))
	if build >= 22000 {
		name = strings.Replace(name, "Windows 10", "Windows 11", 1)
	}
	if dv := registryString(registry.LOCAL_MACHINE, key, "DisplayVersion"); dv != "" {
		name += " " + dv
	}
	return name
}

func registryString(root registry.Key, path, name string) string {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE)
	if err != nil {
		return ""
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	if err != nil {
		return ""
	}
	return printable(v)
}

var procGetSystemPowerStatus = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetSystemPowerStatus")

// systemPowerStatus is SYSTEM_POWER_STATUS.
type systemPowerStatus struct {
	ACLineStatus        byte
	BatteryFlag         byte
	BatteryLifePercent  byte
	SystemStatusFlag    byte
	BatteryLifeTime     uint32
	BatteryFullLifeTime uint32
}

func hasSystemBattery() bool {
	var s systemPowerStatus
	if r, _, _ := procGetSystemPowerStatus.Call(uintptr(unsafe.Pointer(&s))); r == 0 {
		return false
	}
	// 128: no system battery; 255: unknown status.
	return s.BatteryFlag != 128 && s.BatteryFlag != 255
}
