# Packages and portability targets (issue 7). Included by the Makefile.
# Packages land in build/package/OS; scripts/package.sh builds them from a
# copy of the working tree and scripts/package-check.sh checks each one.
.PHONY: portability package-linux package-windows package-android package-ios mobile-ui-test

## package-linux: Sessionguard-VERSION-linux-amd64.tar.xz (binary, .desktop, icon)
package-linux:
	@scripts/deps.sh base fyne package
	scripts/package.sh linux

## package-windows: Sessionguard-VERSION-windows-amd64.exe, cross-built with
## mingw-w64 (icon, manifest, version resource). Cold: ~8 min on 2 cores.
package-windows:
	@scripts/deps.sh base package windows
	scripts/package.sh windows

## package-android: Sessionguard-VERSION.apk; needs the Android NDK
## (ANDROID_NDK_HOME), see README.md "Building for phones"
package-android:
	@scripts/package.sh --check android
	@scripts/deps.sh base package
	scripts/package.sh android

## package-ios: Sessionguard.app; needs macOS with Xcode (there, package.sh
## installs the pinned fyne CLI itself: deps.sh is for Debian)
package-ios:
	@scripts/package.sh --check ios
	scripts/package.sh ios

## mobile-ui-test: the UI tests with Fyne's `mobile` tag: the test driver
## then reports a phone (IsMobile), with the phone theme and widget
## behaviour. The tag also compiles Fyne's GLES driver (internal/cache
## imports it), hence the GLES headers of the mobile group.
mobile-ui-test:
	@scripts/deps.sh base fyne mobile
	$(GO) test -race -count=1 -tags mobile ./ui/...

## portability: the platform builds CI keeps from rotting: the Linux and
## Windows packages (built and checked), the UI tests as a phone, and the
## shared packages vetted for Android and iOS (mobile-vet, part of lint)
portability: package-linux package-windows mobile-ui-test mobile-vet
